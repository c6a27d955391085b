import { type AnyParam, Optimizer, type OptimizerOptions, type OptimizerSpec, type ParamGroupInit } from '../optimizer';
import { type SparseAdamRuleOptions, sparseAdamRule } from '../rules/sparse-adam';
import { beta, flag, nonNegative } from './hyper';

/** SparseAdam's hyperparameters (each may differ per parameter group). */
export interface SparseAdamHyper {
  /** Step size, or a schedule. Default 0.001. */
  lr: number;
  /** Decay of the first-moment average. Default 0.9. */
  beta1: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2: number;
  /** Added to sqrt(v), not rescaled. Default 1e-8. */
  eps: number;
  /** Ascend the objective instead of descending it. Default false. */
  maximize: boolean;
}

export type SparseAdamOptions = OptimizerOptions<SparseAdamHyper>;

const SPARSE_ADAM: OptimizerSpec<SparseAdamHyper, SparseAdamRuleOptions> = {
  name: 'SparseAdam',
  rule: sparseAdamRule,
  defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, maximize: false },
  hyper: { lr: nonNegative, beta1: beta, beta2: beta, eps: nonNegative, maximize: flag },
  ruleOptions: (h) => ({ ...h, weightDecay: 0 }),
  sparse: 'only',
};

/**
 * PyTorch 1.13's SparseAdam ("lazy Adam", TensorFlow's LazyAdam) for row-sparse parameters only:
 * duplicate rows are summed first, then only the touched rows' exp_avg, exp_avg_sq and values
 * change; bias correction uses the optimizer's step count. Its arithmetic is PyTorch's, not
 * Adam's: m += (g - m)*(1-beta1), v += (g*g - v)*(1-beta2), p -= stepSize*(m/(sqrt(v) + eps)) with
 * eps not rescaled by sqrt(1-beta2^t). No weight decay, as in PyTorch.
 */
export class SparseAdam extends Optimizer<SparseAdamHyper, SparseAdamRuleOptions> {
  constructor(params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<SparseAdamHyper>>, options?: SparseAdamOptions) {
    super(SPARSE_ADAM, params, options);
  }
}
