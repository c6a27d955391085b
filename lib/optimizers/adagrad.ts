import { Optimizer, type OptimizerOptions, type OptimizerSpec, type Param, type ParamGroupInit } from '../optimizer';
import { type AdagradRuleOptions, adagradRule } from '../rules/adagrad';
import { flag, nonNegative } from './hyper';

/** AdaGrad's hyperparameters: the rule's options but for the optimizer-wide `gradScale`. */
export type AdaGradHyper = Omit<AdagradRuleOptions, 'gradScale'>;

export type AdaGradOptions = OptimizerOptions<AdaGradHyper>;

const ADAGRAD: OptimizerSpec<AdaGradHyper, AdagradRuleOptions> = {
  name: 'AdaGrad',
  rule: adagradRule,
  defaults: { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  hyper: {
    lr: nonNegative,
    lrDecay: nonNegative,
    weightDecay: nonNegative,
    initialAccumulatorValue: nonNegative,
    eps: nonNegative,
    maximize: flag,
  },
  ruleOptions: (h) => h,
};

/** AdaGrad (Duchi, Hazan & Singer 2011); PyTorch 1.13's formulas. */
export class AdaGrad extends Optimizer<AdaGradHyper, AdagradRuleOptions> {
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<AdaGradHyper>>, options?: AdaGradOptions) {
    super(ADAGRAD, params, options);
  }
}
