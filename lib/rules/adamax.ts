import { Flag } from './flags';
import type { Rule } from './types';

const f = Math.fround;

export interface AdamaxRuleOptions {
  lr: number;
  beta1: number;
  /** Decay of the infinity norm u. */
  beta2: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

// Scalar layout; native/kernels/rules.h AdamaxRule::Scalar has the same order.
const BETA1 = 0, ONE_MINUS_BETA1 = 1, BETA2 = 2, EPS = 3, WEIGHT_DECAY = 4, STEP_SIZE = 5;

/**
 * AdaMax (Kingma & Ba 2015, Algorithm 2), in the order of rules.h:
 *   g = maximize ? -grad : grad;  L2: g = g + weightDecay*p
 *   m = m*beta1 + g*(1-beta1);  u = max(u*beta2, |g| + eps)   (no bias correction on u)
 *   p = p - (lr/(1-beta1^t))*(m/u)
 */
export const adamaxRule: Rule<AdamaxRuleOptions> = {
  name: 'adamax',
  stateSlots: ['exp_avg', 'exp_inf'],
  scalarCount: 6,
  needsSlot: () => true,
  flags: (o) => (o.maximize ? Flag.maximize : 0) | (o.weightDecay !== 0 ? Flag.l2 : 0),
  scalars(o, t, out) {
    out[BETA1] = o.beta1;
    out[ONE_MINUS_BETA1] = 1 - o.beta1;
    out[BETA2] = o.beta2;
    out[EPS] = o.eps;
    out[WEIGHT_DECAY] = o.weightDecay;
    out[STEP_SIZE] = o.lr / (1 - Math.pow(o.beta1, t));
  },
  update(s, flags, slots, n) {
    const p = slots[0]!, g = slots[1]!, m = slots[2]!, u = slots[3]!;
    const beta1 = s[BETA1], omb1 = s[ONE_MINUS_BETA1], beta2 = s[BETA2], eps = s[EPS];
    const wd = s[WEIGHT_DECAY], stepSize = s[STEP_SIZE];
    const maximize = (flags & Flag.maximize) !== 0, l2 = (flags & Flag.l2) !== 0;
    for (let i = 0; i < n; i++) {
      const pi = p[i];
      let gi = maximize ? -g[i] : g[i];
      if (l2) gi = f(gi + f(wd * pi));
      const mi = f(f(m[i] * beta1) + f(gi * omb1));
      const a = f(u[i] * beta2), b = f(Math.abs(gi) + eps);
      const ui = a > b ? a : b; // maxps semantics, as every backend
      p[i] = f(pi - f(stepSize * f(mi / ui)));
      m[i] = mi;
      u[i] = ui;
    }
  },
};
