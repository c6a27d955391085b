import { Optimizer, type OptimizerOptions, type OptimizerSpec, type Param, type ParamGroupInit } from '../optimizer';
import { type AdamRuleOptions, adamRule } from '../rules/adam';
import { beta, flag, nonNegative } from './hyper';

/**
 * Adam's hyperparameters: the rule's options but for `decoupled`, which the class decides, and
 * `gradScale`, an optimizer-wide option (TrainingOptions).
 */
export type AdamHyper = Omit<AdamRuleOptions, 'decoupled' | 'gradScale'>;

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
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<AdamHyper>>, options?: AdamOptions) {
    super(ADAM, params, options);
  }
}

/** AdamW (Loshchilov & Hutter 2019): Adam with the weight decay decoupled from the gradient. */
export class AdamW extends Optimizer<AdamHyper, AdamRuleOptions> {
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<AdamHyper>>, options?: AdamOptions) {
    super(ADAMW, params, options);
  }
}
