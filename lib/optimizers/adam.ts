import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type AdamRuleOptions, adamRule } from '../rules/adam';
import { beta, flag, nonNegative } from './hyper';

/** Adam's and AdamW's hyperparameters (each may differ per parameter group). */
export interface AdamHyper {
  /** Step size (alpha in the paper), or a schedule. Default 0.001. */
  lr: number;
  /** Decay of the first-moment average m. Default 0.9. */
  beta1: number;
  /** Decay of the second-moment average v. Default 0.999. */
  beta2: number;
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /**
   * Adam: an L2 penalty, weightDecay*p added to the gradient (default 0). AdamW: decoupled decay,
   * p multiplied by 1 - lr*weightDecay before the update (default 0.01).
   */
  weightDecay: number;
  /** AMSGrad: the running maximum of v in the denominator. Default false. */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
  /** Divide m by 1-beta1^t and v by 1-beta2^t. Default true; false is the paper's Figure 4 ablation. */
  biasCorrection: boolean;
}

export type AdamOptions = OptimizerOptions<AdamHyper>;

const HYPER = { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, weightDecay: nonNegative, amsgrad: flag, maximize: flag, biasCorrection: flag };

function spec(name: string, weightDecay: number, decoupled: boolean): OptimizerSpec<AdamHyper, AdamRuleOptions> {
  return {
    name,
    rule: adamRule,
    // The paper's defaults; AdamW takes PyTorch's weightDecay 0.01.
    defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, amsgrad: false, maximize: false, biasCorrection: true },
    hyper: HYPER,
    ruleOptions: (h) => ({ ...h, decoupled }),
  };
}

const ADAM = spec('Adam', 0, false);
const ADAMW = spec('AdamW', 0.01, true);

/** Adam (Kingma & Ba 2015). `weightDecay` adds weightDecay*p to the gradient (L2). */
export class Adam extends Optimizer<AdamHyper, AdamRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<AdamHyper>>, options?: AdamOptions) {
    super(ADAM, params, options);
  }
}

/** AdamW (Loshchilov & Hutter 2019): Adam with the weight decay decoupled from the gradient (default 0.01). */
export class AdamW extends Optimizer<AdamHyper, AdamRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<AdamHyper>>, options?: AdamOptions) {
    super(ADAMW, params, options);
  }
}
