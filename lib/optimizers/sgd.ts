import { Optimizer, type OptimizerOptions, type OptimizerSpec, type Param, type ParamGroupInit } from '../optimizer';
import { type SgdRuleOptions, sgdRule } from '../rules/sgd';
import { flag, nonNegative } from './hyper';

/** SGD's hyperparameters: the rule's options but for the optimizer-wide `gradScale`. */
export type SgdHyper = Omit<SgdRuleOptions, 'gradScale'>;

export type SgdOptions = OptimizerOptions<SgdHyper>;

const SGD_SPEC: OptimizerSpec<SgdHyper, SgdRuleOptions> = {
  name: 'SGD',
  rule: sgdRule,
  defaults: { lr: undefined, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, momentum: nonNegative, dampening: nonNegative, nesterov: flag, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
  check(h, where) {
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0))
      throw new RangeError(
        `${where} 'nesterov' needs momentum > 0 and dampening 0, got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
  },
};

/** Stochastic gradient descent, with optional (Nesterov) momentum; PyTorch 1.13's formulas. */
export class SGD extends Optimizer<SgdHyper, SgdRuleOptions> {
  constructor(params: readonly Param[] | ReadonlyArray<ParamGroupInit<SgdHyper>>, options?: SgdOptions) {
    super(SGD_SPEC, params, options);
  }
}
