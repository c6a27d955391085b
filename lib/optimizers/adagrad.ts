import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type AdagradRuleOptions, adagradRule } from '../rules/adagrad';
import { flag, nonNegative } from './hyper';

/** AdaGrad's hyperparameters (each may differ per parameter group). */
export interface AdaGradHyper {
  /** Step size, or a schedule. Default 0.01. */
  lr: number;
  /** The step size decays as lr/(1 + (t-1)*lrDecay). Default 0. */
  lrDecay: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** The value the sum of squared gradients starts at. Default 0. */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability. Default 1e-10. */
  eps: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

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
  sparse: 'also',
  sparseProblem: (h) => (h.weightDecay !== 0 ? `weightDecay ${h.weightDecay} does not support sparse gradients (as in PyTorch); use weightDecay 0` : null),
};

/** AdaGrad (Duchi, Hazan & Singer 2011); PyTorch 1.13's formulas. */
export class AdaGrad extends Optimizer<AdaGradHyper, AdagradRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<AdaGradHyper>>, options?: AdaGradOptions) {
    super(ADAGRAD, params, options);
  }
}
