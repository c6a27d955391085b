import { Optimizer, type OptimizerOptions, type OptimizerSpec, type Param, type ParamGroupInit } from '../optimizer';
import { type RmspropRuleOptions, rmspropRule } from '../rules/rmsprop';
import { beta, flag, nonNegative } from './hyper';

/** RMSProp's hyperparameters: the rule's options but for the optimizer-wide `gradScale`. */
export type RMSPropHyper = Omit<RmspropRuleOptions, 'gradScale'>;

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
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<RMSPropHyper>>, options?: RMSPropOptions) {
    super(RMSPROP, params, options);
  }
}
