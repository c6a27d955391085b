import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type RmspropRuleOptions, rmspropRule } from '../rules/rmsprop';
import { beta, flag, nonNegative } from './hyper';

/** RMSProp's hyperparameters (each may differ per parameter group). */
export interface RMSPropHyper {
  /** Step size, or a schedule. Default 0.01. */
  lr: number;
  /** Decay of the squared-gradient average (PyTorch's alpha). Default 0.99. */
  rho: number;
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** Momentum factor on the scaled step. Default 0 (none). */
  momentum: number;
  /** Normalise by the gradient's estimated variance instead of its second moment. Default false. */
  centered: boolean;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type RMSPropOptions = OptimizerOptions<RMSPropHyper>;

const RMSPROP: OptimizerSpec<RMSPropHyper, RmspropRuleOptions> = {
  name: 'RMSProp',
  rule: rmspropRule,
  defaults: { lr: 0.01, rho: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  hyper: { lr: nonNegative, rho: beta, eps: nonNegative, weightDecay: nonNegative, momentum: nonNegative, centered: flag, maximize: flag },
  ruleOptions: (h) => h,
};

/** RMSProp (Tieleman & Hinton 2012), optionally centred (Graves 2013); PyTorch 1.13's formulas. */
export class RMSProp extends Optimizer<RMSPropHyper, RmspropRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<RMSPropHyper>>, options?: RMSPropOptions) {
    super(RMSPROP, params, options);
  }
}
