import { Flag } from './flags';
import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface AdamRuleOptions extends GradOptions {
  /** Step size (alpha in the paper). */
  lr: number;
  /** Decay of the first-moment average m. */
  beta1: number;
  /** Decay of the second-moment average v. */
  beta2: number;
  /** Added to sqrt(v_hat) for numerical stability. */
  eps: number;
  weightDecay: number;
  /** AMSGrad: use the running maximum of v in the denominator. */
  amsgrad: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
  /** Divide m by 1-beta1^t and v by 1-beta2^t (default true); false (both 1) is the paper's Figure 4 ablation. */
  biasCorrection: boolean;
  /** AdamW: decay the parameter by (1 - lr*weightDecay) instead of adding weightDecay*p to g. */
  decoupled: boolean;
}

// Names in the order of native/kernels/rules.h AdamRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] as const;
const SCALARS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'weightDecay', 'stepSize', 'epsHat', 'decay', 'gradScale'] as const;
const { beta1: BETA1, oneMinusBeta1: ONE_MINUS_BETA1, beta2: BETA2, oneMinusBeta2: ONE_MINUS_BETA2, weightDecay: WEIGHT_DECAY, stepSize: STEP_SIZE, epsHat: EPS_HAT, decay: DECAY, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * Adam (Kingma & Ba 2015, Algorithm 1) and AdamW in the paper's efficient ordering (the note after
 * Algorithm 1: one sqrt and one division per element), in the order of rules.h:
 *   AdamW: p = p*decay;  g = effectiveGrad(grad, p) (./grad.ts; L2 only without AdamW)
 *   m = m*beta1 + g*(1-beta1);  v = v*beta2 + (g*g)*(1-beta2);  amsgrad: vmax = max(vmax, v)
 *   denom = sqrt(v) + epsHat;  p = p - stepSize*(m/denom)
 * with, on the host in float64: stepSize = lr*sqrt(1-beta2^t)/(1-beta1^t), epsHat = eps*sqrt(1-beta2^t).
 * Without bias correction both 1-beta^t are 1, so stepSize = lr and epsHat = eps exactly.
 */
export const adamRule: Rule<AdamRuleOptions> = {
  name: 'adam',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: (slot, o) => slot !== 'max_exp_avg_sq' || o.amsgrad,
  flags: (o) =>
    gradFlags(o, o.weightDecay !== 0 && !o.decoupled) |
    (o.amsgrad ? Flag.amsgrad : 0) |
    (o.weightDecay !== 0 && o.decoupled ? Flag.decoupledDecay : 0),
  scalars(o, t, out) {
    const bc1 = o.biasCorrection ? 1 - Math.pow(o.beta1, t) : 1;
    const bc2 = o.biasCorrection ? 1 - Math.pow(o.beta2, t) : 1;
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[ONE_MINUS_BETA2] = 1 - o.beta2;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[STEP_SIZE] = (o.lr * Math.sqrt(bc2)) / bc1;
    out[EPS_HAT] = o.eps * Math.sqrt(bc2);
    out[DECAY] = 1 - o.lr * o.weightDecay;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!, v = slots[SLOT.exp_avg_sq]!, vmax = slots[SLOT.max_exp_avg_sq];
    const beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], omb2 = s[ONE_MINUS_BETA2];
    const wd = s[WEIGHT_DECAY], stepSize = s[STEP_SIZE], epsHat = s[EPS_HAT], decay = s[DECAY];
    const gradScale = s[GRAD_SCALE];
    const decoupled = (flags & Flag.decoupledDecay) !== 0, amsgrad = (flags & Flag.amsgrad) !== 0;
    for (let i = 0; i < n; i++) {
      let pi = p[i];
      if (decoupled) pi = f(pi * decay);
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const mi = f(f(m[i] * beta1) + f(gi * omb1));
      const vi = f(f(v[i] * beta2) + f(f(gi * gi) * omb2));
      let vd = vi;
      if (amsgrad) {
        const old = vmax![i];
        vd = old > vi ? old : vi;
        vmax![i] = vd;
      }
      const denom = f(f(Math.sqrt(vd)) + epsHat);
      p[i] = f(pi - f(stepSize * f(mi / denom)));
      m[i] = mi;
      v[i] = vi;
    }
  },
};
