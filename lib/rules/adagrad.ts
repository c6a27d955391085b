import { type GradOptions, effectiveGrad, gradFlags } from './grad';
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

// Scalar layout; native/kernels/rules.h AdagradRule::Scalar has the same order.
const CLR = 0, EPS = 1, WEIGHT_DECAY = 2, GRAD_SCALE = 3;

/**
 * AdaGrad (Duchi et al. 2011), in the order of rules.h:
 *   g = effectiveGrad(grad, p);  sum = sum + g*g;  p = p - clr*(g/(sqrt(sum) + eps))
 *   clr = lr/(1 + (t-1)*lrDecay), on the host in float64
 */
export const adagradRule: Rule<AdagradRuleOptions> = {
  name: 'adagrad',
  stateSlots: ['sum'],
  scalarCount: 4,
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
    const p = slots[0]!, g = slots[1]!, sum = slots[2]!;
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
