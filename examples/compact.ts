import { Adam, type Param, type StateDtype } from 'adam-native';
import { plans } from './experiments';
import { loadMnist } from './mnist';
import type { BackendChoice, OptimizerChoice, Stepper } from './optimizers';
import { trainRun } from './train';

/**
 * `npm run demo -- --compact`: logistic regression and the MLP trained with Adam keeping its
 * moments in fp32, bf16 and int8 (lib/compact), from the same start and minibatch order; prints the
 * final training NLL of each and its difference from fp32. The bf16-parameter rows keep the
 * weights as bf16 (the model computes with them widened) and round each grad to bf16 before the step.
 */
export function runCompactDemo(backend: BackendChoice, epochs?: number): string {
  const data = loadMnist();
  const lines = ['| experiment | state | train NLL | vs fp32 | test accuracy |', '|---|---|---|---|---|'];
  for (const plan of plans({ full: false, dropout: 0, epochs }).filter((p) => p.name === 'logreg' || p.name === 'mlp')) {
    const lr = plan.name === 'logreg' ? 1e-2 : 3e-3;
    let fp32 = NaN;
    for (const [label, stateDtype, half] of SETTINGS) {
      const optimizer: OptimizerChoice = {
        name: `Adam ${label}`,
        make: (p, l, b) => (half ? new Bf16Params(p, (q) => new Adam(q, { lr: l, backend: b, stateDtype, masterWeights: half === 'master' })) : new Adam(p, { lr: l, backend: b, stateDtype })),
      };
      const r = trainRun({ experiment: plan.name, optimizer, lr, epochs: plan.epochs, batch: plan.batch, model: plan.model, train: data.train, test: data.test, seed: plan.seed + 100, backend, pointsPerEpoch: 1 });
      if (label === 'fp32') fp32 = r.trainNLL;
      const rel = label === 'fp32' ? '' : `${(((r.trainNLL - fp32) / fp32) * 100).toFixed(2)}%`;
      lines.push(`| ${plan.name} (${plan.epochs} epochs, lr ${lr}) | ${label} | ${r.trainNLL.toFixed(5)} | ${rel} | ${(r.testAccuracy * 100).toFixed(2)}% |`);
      process.stderr.write(`  ${plan.name} ${label}: ${r.trainNLL.toFixed(5)}\n`);
    }
  }
  return lines.join('\n');
}

const SETTINGS: Array<[string, StateDtype, 'master' | 'stochastic' | null]> = [
  ['fp32', 'fp32', null],
  ['bf16', 'bf16', null],
  ['int8', 'int8', null],
  ['bf16 params + master', 'fp32', 'master'],
  ['bf16 params + master, int8', 'int8', 'master'],
  ['bf16 params, stochastic rounding', 'fp32', 'stochastic'],
];

// float32 <-> bfloat16 bits (nearest even; the demo's values are finite).
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const toBf16 = (x: number): number => ((f32[0] = x), (u32[0] + 0x7fff + ((u32[0] >>> 16) & 1)) >>> 16);
const fromBf16 = (h: number): number => ((u32[0] = h << 16), f32[0]);

/** The model's float32 weights kept as bf16 parameters: the model sees them widened. */
class Bf16Params implements Stepper {
  readonly #opt: Adam;
  readonly #pairs: Array<{ wide: Param; data: Uint16Array; grad: Uint16Array }>;

  constructor(params: Param[], make: (half: Array<{ name?: string; data: Uint16Array; grad: Uint16Array; dtype: 'bf16' }>) => Adam) {
    this.#pairs = params.map((wide) => ({ wide, data: Uint16Array.from(wide.data, toBf16), grad: new Uint16Array(wide.data.length) }));
    for (const p of this.#pairs) this.#widen(p);
    this.#opt = make(this.#pairs.map((p) => ({ name: p.wide.name, data: p.data, grad: p.grad, dtype: 'bf16' })));
  }

  get backend(): string {
    return this.#opt.backend;
  }

  zeroGrad(): void {
    for (const p of this.#pairs) p.wide.grad.fill(0);
  }

  step(): void {
    for (const p of this.#pairs) for (let i = 0; i < p.grad.length; i++) p.grad[i] = toBf16(p.wide.grad[i]);
    this.#opt.step();
    for (const p of this.#pairs) this.#widen(p);
  }

  #widen(p: { wide: Param; data: Uint16Array }): void {
    for (let i = 0; i < p.data.length; i++) p.wide.data[i] = fromBf16(p.data[i]);
  }
}
