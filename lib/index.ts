export { Adam, AdamW, type AdamHyper, type AdamOptions } from './optimizers/adam';
export { AdaMax, type AdaMaxHyper, type AdaMaxOptions } from './optimizers/adamax';
export { Optimizer, type Param, type BackendOptions, type StateDict } from './optimizer';
export { backendInfo, type BackendInfo, type BackendOption } from './backends';
export type { IsaOption } from './backends/native';
export { allocFloat32 } from './memory';
export { cuda, DeviceTensor, type CudaInfo, type CudaDevice } from './cuda';
export type { Tensor } from './tensor';
