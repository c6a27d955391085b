import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type AdamaxRuleOptions, adamaxRule } from '../rules/adamax';
import { beta, flag, nonNegative } from './hyper';

/** AdaMax's hyperparameters (each may differ per parameter group). */
export interface AdaMaxHyper {
  /** Step size, or a schedule. Default 0.002 (the paper's). */
  lr: number;
  /** Decay of the first-moment average m. Default 0.9. */
  beta1: number;
  /** Decay of the infinity norm u. Default 0.999. */
  beta2: number;
  /** Added to |g| in the infinity norm. Default 1e-8. */
  eps: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type AdaMaxOptions = OptimizerOptions<AdaMaxHyper>;

const ADAMAX: OptimizerSpec<AdaMaxHyper, AdamaxRuleOptions> = {
  name: 'AdaMax',
  rule: adamaxRule,
  defaults: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/** AdaMax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm in place of v. */
export class AdaMax extends Optimizer<AdaMaxHyper, AdamaxRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<AdaMaxHyper>>, options?: AdaMaxOptions) {
    super(ADAMAX, params, options);
  }
}
