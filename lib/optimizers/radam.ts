import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type RadamRuleOptions, radamRule } from '../rules/radam';
import { beta, flag, nonNegative } from './hyper';

/** RAdam's hyperparameters (each may differ per parameter group). */
export interface RAdamHyper {
  /** Step size, or a schedule. Default 0.001. */
  lr: number;
  /** Decay of the first-moment average m. Default 0.9. */
  beta1: number;
  /** Decay of the second-moment average v; sets rho_inf = 2/(1-beta2) - 1. Default 0.999. */
  beta2: number;
  /** Added to sqrt(v) in the rectified steps. Default 1e-8. */
  eps: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type RAdamOptions = OptimizerOptions<RAdamHyper>;

const RADAM: OptimizerSpec<RAdamHyper, RadamRuleOptions> = {
  name: 'RAdam',
  rule: radamRule,
  defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/**
 * RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"); PyTorch
 * 1.13's formulas and state names. While rho_t <= 5 (the first steps: 5 with beta2 = 0.999) the
 * step is the bias-corrected momentum alone, lr*m/(1-beta1^t).
 */
export class RAdam extends Optimizer<RAdamHyper, RadamRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<RAdamHyper>>, options?: RAdamOptions) {
    super(RADAM, params, options);
  }
}
