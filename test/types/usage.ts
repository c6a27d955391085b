// Compiled by test/types.test.ts with tsc --strict --noEmit: what a user writes must compile
// without casts, and the mistakes marked @ts-expect-error must not.
import {
  Adam,
  AdamW,
  DeviceTensor,
  type Param,
  SGD,
  type StateDict,
  clipGradNorm,
  clipGradValue,
  cosine,
} from '../../lib';

const params: Param[] = [{ name: 'w', data: new Float32Array(4), grad: new Float32Array(4) }];
params[0].grad[0] = 1; // host arrays index without casts
clipGradNorm(params, 1);
clipGradValue(params, 0.5);

const adam = new Adam(params, { lr: cosine(1e-3, { totalSteps: 100 }), weightDecay: 0.1 });
adam.step();
const sd: StateDict<unknown> = adam.stateDict();
adam.loadStateDict(adam.stateDict());
void sd;

new AdamW([{ params, lr: 1e-3 }], { weightDecay: 0.01 });
new SGD(params, { lr: 0.1, momentum: 0.9 });
new SGD([{ params, lr: 0.1 }]); // a group may give lr itself

declare const onGpu: DeviceTensor;
const deviceParams: Array<Param<DeviceTensor>> = [{ data: onGpu, grad: onGpu }];
new Adam(deviceParams, { backend: 'cuda' });

// @ts-expect-error SGD needs lr
new SGD(params, { momentum: 0.9 });
// @ts-expect-error a state dict, not anything
adam.loadStateDict(42);
// @ts-expect-error a Param's grad is a Float32Array, not a number[]
const bad: Param = { data: new Float32Array(1), grad: [0] };
void bad;
// @ts-expect-error no such option
new Adam(params, { momentum: 0.9 });
// @ts-expect-error data and grad of one parameter are of one kind
const mixed: Param = { data: new Float32Array(1), grad: onGpu };
void mixed;
