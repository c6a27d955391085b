import type { HyperSpec } from '../optimizer';

/** The checks shared by the optimizers' hyperparameters. */
export const nonNegative: HyperSpec = { kind: 'number', rule: { min: 0 } };
export const beta: HyperSpec = { kind: 'number', rule: { min: 0, below: 1 } };
export const flag: HyperSpec = { kind: 'boolean' };
