import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface AdagradRuleOptions extends GradOptions {
  lr: number;
  /** The step size decays as lr/(1 + (t-1)*lrDecay). */
  lrDecay: number;
  weightDecay: number;
  /** The value the sum of squared gradients starts at. */
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h AdagradRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'sum'] as const;
const SCALARS = ['clr', 'eps', 'weightDecay', 'gradScale'] as const;
const { clr: CLR, eps: EPS, weightDecay: WEIGHT_DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * AdaGrad (Duchi et al. 2011), in the order of rules.h:
 *   g = effectiveGrad(grad, p);  sum = sum + g*g;  p = p - clr*(g/(sqrt(sum) + eps))
 *   clr = lr/(1 + (t-1)*lrDecay), on the host in float64
 */
export const adagradRule: Rule<AdagradRuleOptions> = {
  name: 'adagrad',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  initialValue: (_slot, o) => o.initialAccumulatorValue,
  flags: (o) => gradFlags(o),
  scalars(o, t, out) {
    out[CLR] = o.lr / (1 + (t - 1) * o.lrDecay);
    out[EPS] = o.eps;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, sum = slots[SLOT.sum]!;
    const clr = s[CLR], eps = s[EPS], wd = s[WEIGHT_DECAY], gradScale = s[GRAD_SCALE];
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const si = f(sum[i] + f(gi * gi));
      const denom = f(f(Math.sqrt(si)) + eps);
      p[i] = f(pi - f(clr * f(gi / denom)));
      sum[i] = si;
    }
  },
};
