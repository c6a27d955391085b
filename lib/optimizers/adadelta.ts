import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type AdadeltaRuleOptions, adadeltaRule } from '../rules/adadelta';
import { beta, flag, nonNegative } from './hyper';

/** Adadelta's hyperparameters (each may differ per parameter group). */
export interface AdadeltaHyper {
  /** Scales the update, or a schedule. Default 1 (the paper's update, unscaled). */
  lr: number;
  /** Decay of both running averages (squared gradients, squared updates). Default 0.9. */
  rho: number;
  /** Added inside both square roots. Default 1e-6. */
  eps: number;
  /** L2 penalty: weightDecay*p added to the gradient. Default 0. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type AdadeltaOptions = OptimizerOptions<AdadeltaHyper>;

const ADADELTA: OptimizerSpec<AdadeltaHyper, AdadeltaRuleOptions> = {
  name: 'Adadelta',
  rule: adadeltaRule,
  defaults: { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
  hyper: { lr: nonNegative, rho: beta, eps: nonNegative, weightDecay: nonNegative, maximize: flag },
  ruleOptions: (h) => h,
};

/** Adadelta (Zeiler 2012); PyTorch 1.13's formulas and state names (`square_avg`, `acc_delta`). */
export class Adadelta extends Optimizer<AdadeltaHyper, AdadeltaRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<AdadeltaHyper>>, options?: AdadeltaOptions) {
    super(ADADELTA, params, options);
  }
}
