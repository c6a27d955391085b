import { AdaGrad, AdaMax, Adam, type LearningRate, type Param, RMSProp, SGD } from 'adam-native';

/** What the training loop uses of an optimizer. */
export interface Stepper {
  readonly backend: string;
  step(): void;
  zeroGrad(): void;
}

export type BackendChoice = 'auto' | 'js' | 'native';

/** One line of the comparison: a name, and how to build it with a step size or schedule. */
export interface OptimizerChoice {
  name: string;
  make(params: Param[], lr: LearningRate, backend: BackendChoice): Stepper;
}

/** The paper's comparison set, each with the paper's other hyperparameters (betas 0.9/0.999). */
export const OPTIMIZERS: OptimizerChoice[] = [
  { name: 'Adam', make: (p, lr, backend) => new Adam(p, { lr, backend }) },
  { name: 'AdaMax', make: (p, lr, backend) => new AdaMax(p, { lr, backend }) },
  { name: 'SGD-Nesterov', make: (p, lr, backend) => new SGD(p, { lr, momentum: 0.9, nesterov: true, backend }) },
  { name: 'AdaGrad', make: (p, lr, backend) => new AdaGrad(p, { lr, backend }) },
  { name: 'RMSProp', make: (p, lr, backend) => new RMSProp(p, { lr, backend }) },
];

/** Adam at a given beta2, with or without bias correction: the paper's Figure 4 ablation. */
export function adamAblation(beta2: number, biasCorrection: boolean): OptimizerChoice {
  return {
    name: `Adam beta2=${beta2}${biasCorrection ? '' : ' uncorrected'}`,
    make: (p, lr, backend) => new Adam(p, { lr, beta2, biasCorrection, backend }),
  };
}
