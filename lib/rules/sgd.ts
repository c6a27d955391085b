import { Flag } from './flags';
import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface SgdRuleOptions extends GradOptions {
  /** Step size; required (no default, as in PyTorch). */
  lr: number;
  /** Momentum factor (0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient's contribution to the momentum buffer. */
  dampening: number;
  /** Nesterov momentum (Sutskever et al. 2013); needs momentum > 0 and dampening 0. */
  nesterov: boolean;
  /** L2 penalty: adds weightDecay*p to the gradient. */
  weightDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h SgdRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'momentum_buffer'] as const;
const SCALARS = ['lr', 'momentum', 'oneMinusDampening', 'weightDecay', 'gradScale'] as const;
const { lr: LR, momentum: MOMENTUM, oneMinusDampening: ONE_MINUS_DAMPENING, weightDecay: WEIGHT_DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * SGD with momentum and Nesterov momentum, in the order of rules.h:
 *   g = effectiveGrad(grad, p)
 *   momentum: buf = g on the first step, else buf = buf*momentum + g*(1-dampening)
 *             nesterov: g = g + buf*momentum, else g = buf
 *   p = p - lr*g
 */
export const sgdRule: Rule<SgdRuleOptions> = {
  name: 'sgd',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: (_slot, o) => o.momentum !== 0,
  flags: (o, t) =>
    gradFlags(o) |
    (o.momentum !== 0 ? Flag.momentum | (t === 1 ? Flag.firstStep : 0) | (o.nesterov ? Flag.nesterov : 0) : 0),
  scalars(o, _t, out) {
    out[LR] = o.lr;
    out[MOMENTUM] = o.momentum;
    out[ONE_MINUS_DAMPENING] = 1 - o.dampening;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, buf = slots[SLOT.momentum_buffer];
    const lr = s[LR], momentum = s[MOMENTUM], omd = s[ONE_MINUS_DAMPENING], wd = s[WEIGHT_DECAY], gradScale = s[GRAD_SCALE];
    const useMomentum = (flags & Flag.momentum) !== 0, first = (flags & Flag.firstStep) !== 0;
    const nesterov = (flags & Flag.nesterov) !== 0;
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      let gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      if (useMomentum) {
        const bi = first ? gi : f(f(buf![i] * momentum) + f(gi * omd));
        gi = nesterov ? f(gi + f(bi * momentum)) : bi;
        buf![i] = bi;
      }
      p[i] = f(pi - f(lr * gi));
    }
  },
};
