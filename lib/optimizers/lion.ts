import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type LionRuleOptions, lionRule } from '../rules/lion';
import { beta, flag, nonNegative } from './hyper';

/** Lion's hyperparameters (each may differ per parameter group). */
export interface LionHyper {
  /** Step size, or a schedule: every parameter moves by lr per step. Default 1e-4. */
  lr: number;
  /** Interpolation of momentum and gradient whose sign is the update. Default 0.9. */
  beta1: number;
  /** Decay of the momentum exp_avg. Default 0.99. */
  beta2: number;
  /** Decoupled decay: p multiplied by 1 - lr*weightDecay before the update. Default 0. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type LionOptions = OptimizerOptions<LionHyper>;

const LION: OptimizerSpec<LionHyper, LionRuleOptions> = {
  name: 'Lion',
  rule: lionRule,
  defaults: { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
 * interpolation of momentum and gradient, one state slot (`exp_avg`), decoupled weight decay.
 * sign(0) is 0 (the parameter stays); a NaN stays NaN.
 */
export class Lion extends Optimizer<LionHyper, LionRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<LionHyper>>, options?: LionOptions) {
    super(LION, params, options);
  }
}
