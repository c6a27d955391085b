import { Flag } from './flags';
import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface RmspropRuleOptions extends GradOptions {
  lr: number;
  /** Decay of the squared-gradient average (PyTorch's alpha). */
  rho: number;
  eps: number;
  weightDecay: number;
  /** Momentum factor on the scaled step (0: none). */
  momentum: number;
  /** Normalise by the gradient's estimated variance instead of its second moment. */
  centered: boolean;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h RmspropRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'square_avg', 'momentum_buffer', 'grad_avg'] as const;
const SCALARS = ['lr', 'rho', 'oneMinusRho', 'eps', 'momentum', 'weightDecay', 'gradScale'] as const;
const { lr: LR, rho: RHO, oneMinusRho: ONE_MINUS_RHO, eps: EPS, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * RMSProp, in the order of rules.h:
 *   g = effectiveGrad(grad, p);  sq = sq*rho + (g*g)*(1-rho)
 *   centered: ga = ga*rho + g*(1-rho); avg = sqrt(sq - ga*ga) + eps, else avg = sqrt(sq) + eps
 *   momentum: buf = buf*momentum + g/avg; p = p - lr*buf, else p = p - lr*(g/avg)
 */
export const rmspropRule: Rule<RmspropRuleOptions> = {
  name: 'rmsprop',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: (slot, o) => (slot === 'momentum_buffer' ? o.momentum !== 0 : slot === 'grad_avg' ? o.centered : true),
  flags: (o) => gradFlags(o) | (o.momentum !== 0 ? Flag.momentum : 0) | (o.centered ? Flag.centered : 0),
  scalars(o, _t, out) {
    out[LR] = o.lr;
    out[RHO] = o.rho;
    out[ONE_MINUS_RHO] = 1 - o.rho;
    out[EPS] = o.eps;
    out[MOMENTUM] = o.momentum;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, sq = slots[SLOT.square_avg]!, buf = slots[SLOT.momentum_buffer], ga = slots[SLOT.grad_avg];
    const lr = s[LR], rho = s[RHO], omr = s[ONE_MINUS_RHO], eps = s[EPS], momentum = s[MOMENTUM];
    const wd = s[WEIGHT_DECAY], gradScale = s[GRAD_SCALE];
    const useMomentum = (flags & Flag.momentum) !== 0, centered = (flags & Flag.centered) !== 0;
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const sqi = f(f(sq[i] * rho) + f(f(gi * gi) * omr));
      let variance = sqi;
      if (centered) {
        const gai = f(f(ga![i] * rho) + f(gi * omr));
        variance = f(sqi - f(gai * gai));
        ga![i] = gai;
      }
      const avg = f(f(Math.sqrt(variance)) + eps);
      let step = f(gi / avg);
      if (useMomentum) {
        step = f(f(buf![i] * momentum) + step);
        buf![i] = step;
      }
      p[i] = f(pi - f(lr * step));
      sq[i] = sqi;
    }
  },
};
