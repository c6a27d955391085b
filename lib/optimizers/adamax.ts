import { Optimizer, type OptimizerOptions, type OptimizerSpec, type Param, type ParamGroupInit } from '../optimizer';
import { type AdamaxRuleOptions, adamaxRule } from '../rules/adamax';
import { beta, flag, nonNegative } from './hyper';

/** AdaMax's hyperparameters: the rule's options but for the optimizer-wide `gradScale`. */
export type AdaMaxHyper = Omit<AdamaxRuleOptions, 'gradScale'>;

export type AdaMaxOptions = OptimizerOptions<AdaMaxHyper>;

const ADAMAX: OptimizerSpec<AdaMaxHyper, AdamaxRuleOptions> = {
  name: 'AdaMax',
  rule: adamaxRule,
  // The paper's AdaMax defaults (lr 0.002).
  defaults: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/** AdaMax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm in place of v. */
export class AdaMax extends Optimizer<AdaMaxHyper, AdamaxRuleOptions> {
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<AdaMaxHyper>>, options?: AdaMaxOptions) {
    super(ADAMAX, params, options);
  }
}
