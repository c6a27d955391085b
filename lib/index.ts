export { Adam, AdamW, type AdamHyper, type AdamOptions } from './optimizers/adam';
export { AdaMax, type AdaMaxHyper, type AdaMaxOptions } from './optimizers/adamax';
export { SGD, type SgdHyper, type SgdOptions } from './optimizers/sgd';
export { AdaGrad, type AdaGradHyper, type AdaGradOptions } from './optimizers/adagrad';
export { RMSProp, type RMSPropHyper, type RMSPropOptions } from './optimizers/rmsprop';
export {
  Optimizer,
  type Param,
  type BackendOptions,
  type TrainingOptions,
  type OptimizerOptions,
  type ParamGroup,
  type ParamGroupInit,
  type Hyperparameters,
  type StateDict,
} from './optimizer';
export { constant, cosine, exponential, inverseSqrt, stepDecay, type LearningRate, type Schedule } from './schedules';
export { clipGradNorm, clipGradValue, type GradSource } from './clip';
export { backendInfo, type BackendInfo, type BackendOption } from './backends';
export type { IsaOption } from './backends/native';
export { allocFloat32 } from './memory';
export { cuda, DeviceTensor, type CudaInfo, type CudaDevice } from './cuda';
export type { Tensor } from './tensor';
