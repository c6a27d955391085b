import { Flag } from './flags';
import { type GradOptions, effectiveGrad } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface SparseAdamRuleOptions extends GradOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h SparseAdamRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg', 'exp_avg_sq'] as const;
const SCALARS = ['oneMinusBeta1', 'oneMinusBeta2', 'stepSize', 'eps', 'weightDecay', 'gradScale'] as const;
const { oneMinusBeta1: OMB1, oneMinusBeta2: OMB2, stepSize: STEP_SIZE, eps: EPS, weightDecay: WEIGHT_DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * PyTorch 1.13's SparseAdam ("lazy Adam") on the touched rows, in the order of rules.h. Not dense
 * Adam's arithmetic: the moments move by a difference and eps is not rescaled.
 *   g = effectiveGrad(grad, p) (no weight decay)
 *   dm = (g - m)*(1-beta1);  dv = (g*g - v)*(1-beta2);  m = m + dm;  v = v + dv
 *   p = p - stepSize*(m/(sqrt(v) + eps)),  stepSize = lr*sqrt(1-beta2^t)/(1-beta1^t) on the host
 */
export const sparseAdamRule: Rule<SparseAdamRuleOptions> = {
  name: 'sparse_adam',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  flags: (o) => (o.maximize ? Flag.maximize : 0) | (o.gradScale !== 1 ? Flag.gradScale : 0),
  scalars(o, t, out) {
    out[OMB1] = 1 - o.beta1;
    out[OMB2] = 1 - o.beta2;
    out[STEP_SIZE] = (o.lr * Math.sqrt(1 - Math.pow(o.beta2, t))) / (1 - Math.pow(o.beta1, t));
    out[EPS] = o.eps;
    out[WEIGHT_DECAY] = 0;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!, v = slots[SLOT.exp_avg_sq]!;
    const omb1 = s[OMB1], omb2 = s[OMB2], stepSize = s[STEP_SIZE], eps = s[EPS], gradScale = s[GRAD_SCALE];
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, 0);
      const mi = f(m[i] + f(f(gi - m[i]) * omb1));
      const vi = f(v[i] + f(f(f(gi * gi) - v[i]) * omb2));
      const denom = f(f(Math.sqrt(vi)) + eps);
      p[i] = f(pi - f(stepSize * f(mi / denom)));
      m[i] = mi;
      v[i] = vi;
    }
  },
};
