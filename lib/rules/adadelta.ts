import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface AdadeltaRuleOptions extends GradOptions {
  /** Scales the update (PyTorch's lr; the paper has none, i.e. 1). */
  lr: number;
  /** Decay of both running averages. */
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h AdadeltaRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'square_avg', 'acc_delta'] as const;
const SCALARS = ['lr', 'rho', 'oneMinusRho', 'eps', 'weightDecay', 'gradScale'] as const;
const { lr: LR, rho: RHO, oneMinusRho: ONE_MINUS_RHO, eps: EPS, weightDecay: WEIGHT_DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * Adadelta (Zeiler 2012), in the order of rules.h:
 *   g = effectiveGrad(grad, p);  sq = sq*rho + (g*g)*(1-rho);  std = sqrt(sq + eps)
 *   delta = (sqrt(acc + eps)/std)*g;  acc = acc*rho + (delta*delta)*(1-rho);  p = p - lr*delta
 */
export const adadeltaRule: Rule<AdadeltaRuleOptions> = {
  name: 'adadelta',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  flags: (o) => gradFlags(o),
  scalars(o, _t, out) {
    out[LR] = o.lr;
    out[RHO] = o.rho;
    out[ONE_MINUS_RHO] = 1 - o.rho;
    out[EPS] = o.eps;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, sq = slots[SLOT.square_avg]!, acc = slots[SLOT.acc_delta]!;
    const lr = s[LR], rho = s[RHO], omr = s[ONE_MINUS_RHO], eps = s[EPS], wd = s[WEIGHT_DECAY], gradScale = s[GRAD_SCALE];
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const sqi = f(f(sq[i] * rho) + f(f(gi * gi) * omr));
      const std = f(Math.sqrt(f(sqi + eps)));
      const delta = f(f(f(Math.sqrt(f(acc[i] + eps))) / std) * gi);
      acc[i] = f(f(acc[i] * rho) + f(f(delta * delta) * omr));
      p[i] = f(pi - f(lr * delta));
      sq[i] = sqi;
    }
  },
};
