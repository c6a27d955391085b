export * from './optimizers';
export {
  Optimizer,
  type AnyParam,
  type Param,
  type SparseParam,
  type BackendOptions,
  type TrainingOptions,
  type OptimizerOptions,
  type ParamGroup,
  type ParamGroupInit,
  type Hyperparameters,
  type StateDict,
  type SaveOptions,
  type LoadOptions,
} from './optimizer';
export {
  constant,
  cosine,
  exponential,
  inverseSqrt,
  linear,
  linearWarmup,
  multiStep,
  oneCycle,
  reduceOnPlateau,
  sequential,
  stepDecay,
  type BuiltInSchedule,
  type LearningRate,
  type OneCycleOptions,
  type ReduceOnPlateau,
  type ReduceOnPlateauOptions,
  type Schedule,
} from './schedules';
export { clipGradNorm, clipGradValue, type ClipNormOptions, type GradSource } from './clip';
export { backendInfo, type BackendInfo, type BackendOption } from './backends';
export type { IsaOption } from './backends/native';
export { allocFloat32 } from './memory';
export { cuda, DeviceTensor, type CudaInfo, type CudaDevice } from './cuda';
export type { Tensor } from './tensor';
export { coalesce } from './sparse';
export * as distributed from './distributed';
export type { StateDtype } from './compact/slot';
export type { CompactOptions } from './compact/options';
export type { ParamDtype } from './compact/half';
export type { HalfParam } from './params';
