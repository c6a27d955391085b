import { Flag } from './flags';
import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface RadamRuleOptions extends GradOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h RadamRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg', 'exp_avg_sq'] as const;
const SCALARS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'weightDecay', 'stepSize', 'eps', 'gradScale'] as const;
const { beta1: BETA1, oneMinusBeta1: ONE_MINUS_BETA1, beta2: BETA2, oneMinusBeta2: ONE_MINUS_BETA2, weightDecay: WEIGHT_DECAY, stepSize: STEP_SIZE, eps: EPS, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/**
 * RAdam's length of the approximated SMA at step t, rho_t = rho_inf - 2t*beta2^t/(1-beta2^t), and
 * its rectification term r_t (null while rho_t <= 5: the variance is intractable), in float64.
 */
export function radamRectification(beta2: number, t: number): { rho: number; rect: number | null } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const power = Math.pow(beta2, t);
  const rho = rhoInf - (2 * t * power) / (1 - power);
  if (!(rho > 5)) return { rho, rect: null };
  return { rho, rect: Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho)) };
}

/**
 * RAdam (Liu et al. 2020), in the order of rules.h:
 *   g = effectiveGrad(grad, p);  m = m*beta1 + g*(1-beta1);  v = v*beta2 + (g*g)*(1-beta2)
 *   rectified (rho_t > 5): p = p - stepSize*(m/(sqrt(v) + eps)), stepSize = lr*r_t*sqrt(1-beta2^t)/(1-beta1^t)
 *   else:                  p = p - stepSize*m,                   stepSize = lr/(1-beta1^t)
 */
export const radamRule: Rule<RadamRuleOptions> = {
  name: 'radam',
  ...ruleNames(SLOTS, SCALARS),
  needsSlot: () => true,
  flags: (o, t) => gradFlags(o) | (radamRectification(o.beta2, t).rect !== null ? Flag.rectified : 0),
  scalars(o, t, out) {
    const { rect } = radamRectification(o.beta2, t);
    const bc1 = 1 - Math.pow(o.beta1, t);
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[ONE_MINUS_BETA2] = 1 - o.beta2;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[STEP_SIZE] = rect === null ? o.lr / bc1 : (o.lr * rect * Math.sqrt(1 - Math.pow(o.beta2, t))) / bc1;
    out[EPS] = o.eps;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!, v = slots[SLOT.exp_avg_sq]!;
    const beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], omb2 = s[ONE_MINUS_BETA2];
    const wd = s[WEIGHT_DECAY], stepSize = s[STEP_SIZE], eps = s[EPS], gradScale = s[GRAD_SCALE];
    const rectified = (flags & Flag.rectified) !== 0;
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const mi = f(f(m[i] * beta1) + f(gi * omb1));
      const vi = f(f(v[i] * beta2) + f(f(gi * gi) * omb2));
      const step = rectified ? f(mi / f(f(Math.sqrt(vi)) + eps)) : mi;
      p[i] = f(pi - f(stepSize * step));
      m[i] = mi;
      v[i] = vi;
    }
  },
};
