import { Flag } from './flags';
import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface LionRuleOptions extends GradOptions {
  lr: number;
  /** Interpolation of momentum and gradient for the update's sign. */
  beta1: number;
  /** Decay of the momentum exp_avg. */
  beta2: number;
  /** Decoupled: p is multiplied by 1 - lr*weightDecay first. */
  weightDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h LionRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg'] as const;
const SCALARS = ['lr', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'decay', 'gradScale'] as const;
const { lr: LR, beta1: BETA1, oneMinusBeta1: ONE_MINUS_BETA1, beta2: BETA2, oneMinusBeta2: ONE_MINUS_BETA2, decay: DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/** V::sign of the vec headers: +1 for x > 0, -1 for x < 0, +0 for either zero, NaN returned as it is. */
export function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x;
}

/**
 * Lion (Chen et al. 2023), in the order of rules.h:
 *   p = p*decay (decay = 1 - lr*weightDecay);  g = effectiveGrad(grad, p) (never L2)
 *   c = m*beta1 + g*(1-beta1);  p = p - lr*sign(c);  m = m*beta2 + g*(1-beta2)
 */
export const lionRule: Rule<LionRuleOptions> = {
  name: 'lion',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  flags: (o) => gradFlags(o, false) | (o.weightDecay !== 0 ? Flag.decoupledDecay : 0),
  scalars(o, _t, out) {
    out[LR] = o.lr;
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[ONE_MINUS_BETA2] = 1 - o.beta2;
    out[DECAY] = 1 - o.lr * o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!;
    const lr = s[LR], beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], omb2 = s[ONE_MINUS_BETA2];
    const decay = s[DECAY], gradScale = s[GRAD_SCALE];
    const decoupled = (flags & Flag.decoupledDecay) !== 0, gradBits = flags & ~Flag.l2;
    for (let i = 0; i < n; i++) {
      let pi = p[i];
      if (decoupled) pi = f(pi * decay);
      const gi = effectiveGrad(gradBits, g[i], pi, gradScale, 0);
      const c = f(f(m[i] * beta1) + f(gi * omb1));
      p[i] = f(pi - f(lr * sign(c)));
      m[i] = f(f(m[i] * beta2) + f(gi * omb2));
    }
  },
};
