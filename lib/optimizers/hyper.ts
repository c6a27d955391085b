import type { HyperSpec } from '../spec';

/** The checks shared by the optimizers' hyperparameters; every value becomes a float32 scalar. */
export const nonNegative: HyperSpec = { kind: 'number', rule: { min: 0, float32: true } };
export const beta: HyperSpec = { kind: 'number', rule: { min: 0, below: 1, float32: true } };
export const flag: HyperSpec = { kind: 'boolean' };
