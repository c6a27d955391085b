import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import type { LearningRate } from '../schedules';
import { type SgdRuleOptions, sgdRule } from '../rules/sgd';
import { flag, nonNegative } from './hyper';

/** SGD's hyperparameters (each may differ per parameter group). */
export interface SgdHyper {
  /** Step size, or a schedule. Required (no default, as in PyTorch). */
  lr: number;
  /** Momentum factor. Default 0 (plain SGD). */
  momentum: number;
  /** Dampening of the gradient's contribution to the momentum buffer. Default 0. */
  dampening: number;
  /** Nesterov momentum (Sutskever et al. 2013); needs momentum > 0 and dampening 0. Default false. */
  nesterov: boolean;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

/** SGD's options: as every optimizer's, but `lr` is required. */
export type SgdOptions = OptimizerOptions<SgdHyper> & { lr: LearningRate };

const SGD_SPEC: OptimizerSpec<SgdHyper, SgdRuleOptions> = {
  name: 'SGD',
  rule: sgdRule,
  defaults: { lr: undefined, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, momentum: nonNegative, dampening: nonNegative, nesterov: flag, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
  sparse: 'also',
  sparseProblem: (h) =>
    h.weightDecay !== 0
      ? `weightDecay ${h.weightDecay} does not support sparse gradients (as in PyTorch); use weightDecay 0`
      : h.momentum !== 0
        ? `momentum ${h.momentum} is not supported with sparse gradients; use momentum 0`
        : null,
  check(h, where) {
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0))
      throw new RangeError(
        `${where} 'nesterov' needs momentum > 0 and dampening 0, got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
  },
};

/** Stochastic gradient descent, with optional (Nesterov) momentum; PyTorch 1.13's formulas. */
export class SGD extends Optimizer<SgdHyper, SgdRuleOptions> {
  /** `lr` may be left out of the options only when every parameter group gives its own. */
  constructor(params: readonly AnyParam[], options: SgdOptions);
  constructor(params: ReadonlyArray<ParamGroupInit<SgdHyper>>, options?: OptimizerOptions<SgdHyper>);
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<SgdHyper>>, options?: OptimizerOptions<SgdHyper>) {
    super(SGD_SPEC, params, options);
  }
}
