import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type NadamRuleOptions, nadamRule } from '../rules/nadam';
import { beta, flag, nonNegative } from './hyper';

/** NAdam's hyperparameters (each may differ per parameter group). */
export interface NAdamHyper {
  /** Step size, or a schedule. Default 0.002. */
  lr: number;
  /** Decay of the first-moment average m (and the scale of the momentum schedule). Default 0.9. */
  beta1: number;
  /** Decay of the second-moment average v. Default 0.999. */
  beta2: number;
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** psi of the momentum schedule mu_t = beta1*(1 - 0.5*0.96^(t*psi)). Default 0.004. */
  momentumDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type NAdamOptions = OptimizerOptions<NAdamHyper>;

const NADAM: OptimizerSpec<NAdamHyper, NadamRuleOptions> = {
  name: 'NAdam',
  rule: nadamRule,
  defaults: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, weightDecay: nonNegative, momentumDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/**
 * NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"); PyTorch 1.13's formulas and
 * state names (`exp_avg`, `exp_avg_sq`). PyTorch's running product `mu_product` is kept per group
 * on the host in float64 (stateDict groups[i].hostState).
 */
export class NAdam extends Optimizer<NAdamHyper, NadamRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<NAdamHyper>>, options?: NAdamOptions) {
    super(NADAM, params, options);
  }
}
