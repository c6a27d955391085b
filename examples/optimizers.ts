import { AdaMax, Adam, type Param } from 'adam-native';

/** What the training loop uses of an optimizer. */
export interface Stepper {
  lr: number;
  readonly backend: string;
  step(): void;
  zeroGrad(): void;
}

export type BackendChoice = 'auto' | 'js' | 'native';

/** One line of the comparison: a name, and how to build it at a given step size. */
export interface OptimizerChoice {
  name: string;
  make(params: Param[], lr: number, backend: BackendChoice): Stepper;
}

/**
 * The paper's comparison set, each at the paper's other hyperparameters (betas 0.9/0.999).
 * SGD with Nesterov momentum, AdaGrad and RMSProp arrive with the optimizer-family issue: one
 * line each, in this list.
 */
export const OPTIMIZERS: OptimizerChoice[] = [
  { name: 'Adam', make: (p, lr, backend) => new Adam(p, { lr, backend }) },
  { name: 'AdaMax', make: (p, lr, backend) => new AdaMax(p, { lr, backend }) },
];

/** Adam at a given beta2, with or without bias correction: the paper's Figure 4 ablation. */
export function adamAblation(beta2: number, biasCorrection: boolean): OptimizerChoice {
  return {
    name: `Adam beta2=${beta2}${biasCorrection ? '' : ' uncorrected'}`,
    make: (p, lr, backend) => new Adam(p, { lr, beta2, biasCorrection, backend }),
  };
}
