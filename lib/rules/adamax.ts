import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface AdamaxRuleOptions extends GradOptions {
  lr: number;
  beta1: number;
  /** Decay of the infinity norm u. */
  beta2: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h AdamaxRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg', 'exp_inf'] as const;
const SCALARS = ['beta1', 'oneMinusBeta1', 'beta2', 'eps', 'weightDecay', 'stepSize', 'gradScale'] as const;
const { beta1: BETA1, oneMinusBeta1: ONE_MINUS_BETA1, beta2: BETA2, eps: EPS, weightDecay: WEIGHT_DECAY, stepSize: STEP_SIZE, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * AdaMax (Kingma & Ba 2015, Algorithm 2), in the order of rules.h:
 *   g = effectiveGrad(grad, p)  (./grad.ts)
 *   m = m*beta1 + g*(1-beta1);  u = max(u*beta2, |g| + eps)   (no bias correction on u)
 *   p = p - (lr/(1-beta1^t))*(m/u)
 */
export const adamaxRule: Rule<AdamaxRuleOptions> = {
  name: 'adamax',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  flags: (o) => gradFlags(o),
  scalars(o, t, out) {
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[EPS] = o.eps;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[STEP_SIZE] = o.lr / (1 - Math.pow(o.beta1, t));
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!, u = slots[SLOT.exp_inf]!;
    const beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], eps = s[EPS];
    const wd = s[WEIGHT_DECAY], stepSize = s[STEP_SIZE], gradScale = s[GRAD_SCALE];
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const mi = f(f(m[i] * beta1) + f(gi * omb1));
      const a = f(u[i] * beta2), b = f(Math.abs(gi) + eps);
      const ui = a > b ? a : b; // maxps semantics, as every backend
      p[i] = f(pi - f(stepSize * f(mi / ui)));
      m[i] = mi;
      u[i] = ui;
    }
  },
};
