import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logisticRegression } from '../examples/logreg';
import { loadMnist } from '../examples/mnist';
import { OPTIMIZERS } from '../examples/optimizers';
import { curveSpec } from '../examples/plot';
import { fitLabel } from '../examples/progress';
import { runDemo } from '../examples/run';
import { trainRun } from '../examples/train';

// The demo's training loop on real digits, kept small: 60 training images per digit.
const data = loadMnist(60);

function logregRun(optimizer = OPTIMIZERS[0]) {
  return trainRun({
    experiment: 'logreg',
    optimizer,
    lr: 3e-3,
    epochs: 1,
    batch: 32,
    model: () => logisticRegression({ seed: 1, l2: 1e-4, batch: 32 }),
    train: data.train,
    test: data.test,
    seed: 101,
    backend: 'auto',
    pointsPerEpoch: 6,
  });
}

describe('demo: logistic regression on MNIST', () => {
  it('splits each digit 80/20 in file order', () => {
    expect(data.train.count).toBe(600);
    const full = loadMnist();
    expect(full.train.count + full.test.count).toBe(10000);
    expect(full.train.count).toBeGreaterThan(7900);
    // The split is a prefix: the first training image of digit 0 is the file's first image.
    expect(Array.from(full.train.x.subarray(0, 784))).toEqual(Array.from(data.train.x.subarray(0, 784)));
  });

  it('decreases the training loss in one epoch', () => {
    const r = logregRun();
    expect(r.diverged).toBe(false);
    expect(r.curve.length).toBeGreaterThan(3);
    const first = r.curve[0].nll, last = r.curve[r.curve.length - 1].nll;
    expect(last).toBeLessThan(0.8 * first);
    // Chance level is ln(10) = 2.30; one epoch on 600 digits must be well below it.
    expect(r.trainNLL).toBeLessThan(1.5);
    expect(r.testAccuracy).toBeGreaterThan(0.5);
  });

  it('is deterministic: the same run gives the same numbers, bit for bit', () => {
    const a = logregRun(), b = logregRun();
    expect(b.curve).toEqual(a.curve);
    expect(Object.is(b.trainNLL, a.trainNLL)).toBe(true);
    expect(b.testAccuracy).toBe(a.testAccuracy);
  });
});

describe('demo: outputs', () => {
  it('writes valid SVG plots with one line per optimizer, and results.json', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-native-demo-'));
    try {
      const quiet = Object.assign(Object.create(process.stderr), { isTTY: false, write: () => true });
      const { results } = await runDemo({
        full: false, backend: 'auto', out, experiments: ['logreg'], dropout: 0, trainPerDigit: 30, epochs: 1, progress: quiet,
      });
      const svg = fs.readFileSync(path.join(out, 'logreg.svg'), 'utf8');
      expectWellFormedSvg(svg);
      expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(OPTIMIZERS.length);
      for (const o of OPTIMIZERS) expect(svg).toContain(`${o.name} (lr `);

      const records = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
      expect(records.length).toBe(results.length);
      for (const o of OPTIMIZERS) {
        const mine = records.filter((r: { optimizer: string }) => r.optimizer === o.name);
        expect(mine.length).toBeGreaterThan(1); // a grid of step sizes
        expect(mine.filter((r: { best?: boolean }) => r.best).length).toBe(1);
      }
      for (const r of records) expect(Object.keys(r).slice(0, 7)).toEqual(['experiment', 'optimizer', 'lr', 'epochs', 'trainNLL', 'testAccuracy', 'seconds']);
      const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8'));
      expect(meta).toMatchObject({ package: expect.stringMatching(/^adam-native@\d/), backendOption: 'auto', threads: expect.any(Number) });
      expect(meta.backends.length).toBeGreaterThan(0);
      expect(Object.keys(meta.machine)).toEqual(['cpu', 'cores', 'memGiB', 'platform', 'node']);
      expect(Number.isNaN(Date.parse(meta.date))).toBe(false);
      const csv = fs.readFileSync(path.join(out, 'curves.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('experiment,optimizer,lr,epoch,train_nll');
      expect(csv.length).toBeGreaterThan(results.length);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('demo: output details', () => {
  it('progress labels of any length keep the columns aligned', () => {
    expect(fitLabel('short', 10)).toBe('short     ');
    const long = fitLabel('bias-correction Adam beta2 0.99999 no correction lr 0.003', 48);
    expect(long).toHaveLength(48);
    expect(long.endsWith('…')).toBe(true);
  });

  it('series with the same curve are drawn distinguishably, and the log axis drops overlapping labels', () => {
    const same = [{ epoch: 1, nll: 0.5 }, { epoch: 2, nll: 0.4 }];
    const series = ['beta2 0.99', 'beta2 0.999', 'beta2 0.9999'].flatMap((name) => [
      { name, points: same, dash: 'on' },
      { name, points: same, dash: 'off' },
    ]);
    const spec = curveSpec('t', series, { title: 'bias correction', values: ['on', 'off'] });
    const widths = spec.encoding.strokeWidth.scale.range;
    expect(new Set(widths).size).toBe(3); // each beta2 its own width, so coinciding lines nest
    expect(spec.encoding.y.axis.labelOverlap).toBe('greedy');
  });
});

/** An <svg> root whose tags all open and close in order (no XML parser ships with Node). */
function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg ')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
}
