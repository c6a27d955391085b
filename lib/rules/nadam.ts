import { type GradOptions, effectiveGrad, gradFlags } from './grad';
import { indices, ruleNames } from './names';
import type { Rule } from './types';

const f = Math.fround;

export interface NadamRuleOptions extends GradOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** psi of the momentum schedule mu_t = beta1*(1 - 0.5*0.96^(t*psi)). */
  momentumDecay: number;
  maximize: boolean;
}

// Names in the order of native/kernels/rules.h NadamRule (checked against the addon when it loads).
const SLOTS = ['param', 'grad', 'exp_avg', 'exp_avg_sq'] as const;
const SCALARS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'weightDecay', 'gradCoef', 'expAvgCoef', 'epsHat', 'gradScale'] as const;
const { beta1: BETA1, oneMinusBeta1: ONE_MINUS_BETA1, beta2: BETA2, oneMinusBeta2: ONE_MINUS_BETA2, weightDecay: WEIGHT_DECAY, gradCoef: GRAD_COEF, expAvgCoef: EXP_AVG_COEF, epsHat: EPS_HAT, gradScale: GRAD_SCALE } = indices(SCALARS);
const SLOT = indices(SLOTS);

/** NAdam's momentum schedule at step t (PyTorch 1.13's mu_t). */
export function nadamMu(beta1: number, momentumDecay: number, t: number): number {
  return beta1 * (1 - 0.5 * Math.pow(0.96, t * momentumDecay));
}

/**
 * NAdam (Dozat 2016), in the order of rules.h:
 *   g = effectiveGrad(grad, p);  m = m*beta1 + g*(1-beta1);  v = v*beta2 + (g*g)*(1-beta2)
 *   p = p - (g*gradCoef + m*expAvgCoef)/(sqrt(v) + epsHat)
 * On the host in float64: prod_t = prod_{t-1}*mu_t (host state `mu_product`, as PyTorch's running
 * product), gradCoef = lr*(1-mu_t)/(1-prod_t)*sqrt(1-beta2^t),
 * expAvgCoef = lr*mu_{t+1}/(1-prod_t*mu_{t+1})*sqrt(1-beta2^t), epsHat = eps*sqrt(1-beta2^t).
 */
export const nadamRule: Rule<NadamRuleOptions> = {
  name: 'nadam',
  ...ruleNames(SLOTS, SCALARS),
  hostState: { mu_product: 1 },
  needsSlot: () => true,
  flags: (o) => gradFlags(o),
  scalars(o, t, out, host) {
    const mu = nadamMu(o.beta1, o.momentumDecay, t), muNext = nadamMu(o.beta1, o.momentumDecay, t + 1);
    const product = host.mu_product * mu;
    host.mu_product = product;
    const root = Math.sqrt(1 - Math.pow(o.beta2, t));
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[ONE_MINUS_BETA2] = 1 - o.beta2;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[GRAD_COEF] = ((o.lr * (1 - mu)) / (1 - product)) * root;
    out[EXP_AVG_COEF] = ((o.lr * muNext) / (1 - product * muNext)) * root;
    out[EPS_HAT] = o.eps * root;
    out[GRAD_SCALE] = o.gradScale;
  },
  update(s, flags, slots, n) {
    const p = slots[SLOT.param]!, g = slots[SLOT.grad]!, m = slots[SLOT.exp_avg]!, v = slots[SLOT.exp_avg_sq]!;
    const beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], omb2 = s[ONE_MINUS_BETA2];
    const wd = s[WEIGHT_DECAY], gradCoef = s[GRAD_COEF], expAvgCoef = s[EXP_AVG_COEF], epsHat = s[EPS_HAT], gradScale = s[GRAD_SCALE];
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      const gi = effectiveGrad(flags, g[i], pi, gradScale, wd);
      const mi = f(f(m[i] * beta1) + f(gi * omb1));
      const vi = f(f(v[i] * beta2) + f(f(gi * gi) * omb2));
      const denom = f(f(Math.sqrt(vi)) + epsHat);
      const num = f(f(gi * gradCoef) + f(mi * expAvgCoef));
      p[i] = f(pi - f(num / denom));
      m[i] = mi;
      v[i] = vi;
    }
  },
};
