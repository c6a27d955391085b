/** The same formulas in float64, as an independent accuracy reference (no float32 rounding). */
export interface Ref64Options {
  kind: 'adam' | 'adamw' | 'adamax';
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad?: boolean;
  /** false: both bias corrections are 1 (Adam's Figure 4 ablation). */
  biasCorrection?: boolean;
}

export class Reference64 {
  readonly p: Float64Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
  readonly vmax: Float64Array;
  t = 0;
  constructor(init: Float32Array, private readonly o: Ref64Options) {
    this.p = Float64Array.from(init);
    this.m = new Float64Array(init.length);
    this.v = new Float64Array(init.length);
    this.vmax = new Float64Array(init.length);
  }

  step(grad: Float32Array): void {
    const { kind, lr, beta1, beta2, eps, weightDecay: wd } = this.o;
    this.t++;
    const corrected = this.o.biasCorrection ?? true;
    const bc1 = corrected ? 1 - beta1 ** this.t : 1, bc2 = corrected ? 1 - beta2 ** this.t : 1;
    for (let i = 0; i < this.p.length; i++) {
      let g = grad[i];
      if (kind === 'adamw') this.p[i] *= 1 - lr * wd;
      else g += wd * this.p[i];
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g;
      if (kind === 'adamax') {
        this.v[i] = Math.max(beta2 * this.v[i], Math.abs(g) + eps);
        this.p[i] -= (lr / bc1) * (this.m[i] / this.v[i]);
        continue;
      }
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g * g;
      this.vmax[i] = Math.max(this.vmax[i], this.v[i]);
      const v = this.o.amsgrad ? this.vmax[i] : this.v[i];
      this.p[i] -= (lr / bc1) * (this.m[i] / (Math.sqrt(v / bc2) + eps));
    }
  }
}

/** ||a - b|| / ||b||. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

// Float64 versions of PyTorch 1.13's update rules, written from the formulas (not from lib/), for
// one element: `s` is that element's state, `t` the 1-based step.
export type ElementReference = (p: number, grad: number, s: Record<string, number>, t: number, o: Record<string, number | boolean>) => number;

export const sgd64: ElementReference = (p, grad, s, t, o) => {
  let g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  if (o.momentum !== 0) {
    s.buf = t === 1 ? g : s.buf * (o.momentum as number) + (1 - (o.dampening as number)) * g;
    g = o.nesterov ? g + (o.momentum as number) * s.buf : s.buf;
  }
  return p - (o.lr as number) * g;
};

export const adagrad64: ElementReference = (p, grad, s, t, o) => {
  const g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  const clr = (o.lr as number) / (1 + (t - 1) * (o.lrDecay as number));
  s.sum = (t === 1 ? (o.initialAccumulatorValue as number) : s.sum) + g * g;
  return p - (clr * g) / (Math.sqrt(s.sum) + (o.eps as number));
};

export const rmsprop64: ElementReference = (p, grad, s, t, o) => {
  const rho = o.rho as number;
  const g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  if (t === 1) s.sq = s.ga = s.buf = 0;
  s.sq = s.sq * rho + (1 - rho) * g * g;
  let avg: number;
  if (o.centered) {
    s.ga = s.ga * rho + (1 - rho) * g;
    avg = Math.sqrt(s.sq - s.ga * s.ga) + (o.eps as number);
  } else avg = Math.sqrt(s.sq) + (o.eps as number);
  if (o.momentum !== 0) {
    s.buf = s.buf * (o.momentum as number) + g / avg;
    return p - (o.lr as number) * s.buf;
  }
  return p - ((o.lr as number) * g) / avg;
};

export const adadelta64: ElementReference = (p, grad, s, t, o) => {
  const rho = o.rho as number, eps = o.eps as number;
  const g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  if (t === 1) s.sq = s.acc = 0;
  s.sq = s.sq * rho + (1 - rho) * g * g;
  const delta = (Math.sqrt(s.acc + eps) / Math.sqrt(s.sq + eps)) * g;
  s.acc = s.acc * rho + (1 - rho) * delta * delta;
  return p - (o.lr as number) * delta;
};

// PyTorch 1.13's NAdam: mu_product is its running product of mu_t (state['mu_product']).
export const nadam64: ElementReference = (p, grad, s, t, o) => {
  const beta1 = o.beta1 as number, beta2 = o.beta2 as number, lr = o.lr as number, psi = o.momentumDecay as number;
  const g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  if (t === 1) (s.m = s.v = 0), (s.mu_product = 1);
  const mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi)), muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
  s.mu_product *= mu;
  const productNext = s.mu_product * muNext;
  s.m = beta1 * s.m + (1 - beta1) * g;
  s.v = beta2 * s.v + (1 - beta2) * g * g;
  const denom = Math.sqrt(s.v / (1 - beta2 ** t)) + (o.eps as number);
  return p - ((lr * (1 - mu)) / (1 - s.mu_product)) * (g / denom) - ((lr * muNext) / (1 - productNext)) * (s.m / denom);
};

export const radam64: ElementReference = (p, grad, s, t, o) => {
  const beta1 = o.beta1 as number, beta2 = o.beta2 as number, lr = o.lr as number;
  const g = (o.maximize ? -grad : grad) + (o.weightDecay as number) * p;
  if (t === 1) s.m = s.v = 0;
  s.m = beta1 * s.m + (1 - beta1) * g;
  s.v = beta2 * s.v + (1 - beta2) * g * g;
  const bc1 = 1 - beta1 ** t, bc2 = 1 - beta2 ** t;
  const rhoInf = 2 / (1 - beta2) - 1, rho = rhoInf - (2 * t * beta2 ** t) / bc2;
  if (rho <= 5) return p - (s.m / bc1) * lr;
  const rect = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
  return p - (s.m / bc1) * lr * (Math.sqrt(bc2) / (Math.sqrt(s.v) + (o.eps as number))) * rect;
};

// Chen et al. 2023, Program 1, with the decay decoupled (p*(1 - lr*wd) first).
export const lion64: ElementReference = (p, grad, s, t, o) => {
  const beta1 = o.beta1 as number, beta2 = o.beta2 as number, lr = o.lr as number;
  const g = o.maximize ? -grad : grad;
  if (t === 1) s.m = 0;
  const decayed = p * (1 - lr * (o.weightDecay as number));
  const c = beta1 * s.m + (1 - beta1) * g;
  s.m = beta2 * s.m + (1 - beta2) * g;
  return decayed - lr * Math.sign(c);
};
