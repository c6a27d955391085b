import type { AnyParam, Optimizer } from '../optimizer';
import type { Rule } from '../rules/types';
import { adadeltaRule } from '../rules/adadelta';
import { adagradRule } from '../rules/adagrad';
import { adamRule } from '../rules/adam';
import { adamaxRule } from '../rules/adamax';
import { lionRule } from '../rules/lion';
import { nadamRule } from '../rules/nadam';
import { radamRule } from '../rules/radam';
import { rmspropRule } from '../rules/rmsprop';
import { sgdRule } from '../rules/sgd';
import { Adadelta } from './adadelta';
import { AdaGrad } from './adagrad';
import { Adam, AdamW } from './adam';
import { AdaMax } from './adamax';
import { Lion } from './lion';
import { NAdam } from './nadam';
import { RAdam } from './radam';
import { RMSProp } from './rmsprop';
import { SGD } from './sgd';

export * from './adadelta';
export * from './adagrad';
export * from './adam';
export * from './adamax';
export * from './lion';
export * from './nadam';
export * from './radam';
export * from './rmsprop';
export * from './sgd';
export * from './sparse-adam';

type Options = Record<string, unknown>;

/** One optimizer as the doctor, the tests, the CUDA smoke check and the bench enumerate it. */
export interface OptimizerEntry {
  /** The class's name (and its state dicts' `optimizer`). */
  readonly name: string;
  readonly Class: new (params: readonly AnyParam[], options?: Options) => Optimizer<{ lr: number }>;
  readonly rule: Rule<never>;
  /** Options every case gives (SGD's required lr). */
  readonly base: Options;
  /** Values per option whose every combination (those `valid`) covers the rule's code paths. */
  readonly grid: Readonly<Record<string, readonly unknown[]>>;
  readonly valid?: (options: Options) => boolean;
  /** Non-default values for the scalars the grid leaves at their defaults. */
  readonly scalars: Options;
  /** One case through the rule's main paths at once (L2 or decoupled decay, AMSGrad, momentum...). */
  readonly paths: Options;
}

/**
 * Every optimizer of the package: the one list the doctor's parity check, the test cases, the
 * CUDA smoke check and the bench read. A new optimizer is one entry here.
 */
export const OPTIMIZERS: readonly OptimizerEntry[] = [
  {
    name: 'Adam',
    Class: Adam,
    rule: adamRule,
    base: { lr: 0.01 },
    grid: { amsgrad: [false, true], maximize: [false, true], weightDecay: [0, 0.05], biasCorrection: [true, false] },
    scalars: { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-4 },
    paths: { weightDecay: 0.05, amsgrad: true },
  },
  {
    name: 'AdamW',
    Class: AdamW,
    rule: adamRule,
    base: { lr: 0.01 },
    grid: { amsgrad: [false, true], maximize: [false, true], weightDecay: [0, 0.05], biasCorrection: [true, false] },
    scalars: { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-4 },
    paths: { maximize: true },
  },
  {
    name: 'AdaMax',
    Class: AdaMax,
    rule: adamaxRule,
    base: {},
    grid: { maximize: [false, true], weightDecay: [0, 0.05] },
    scalars: { beta1: 0.5, beta2: 0.9, eps: 1e-3 },
    paths: { weightDecay: 0.05 },
  },
  {
    name: 'SGD',
    Class: SGD as unknown as OptimizerEntry['Class'],
    rule: sgdRule,
    base: { lr: 0.01 },
    grid: { momentum: [0, 0.9], dampening: [0, 0.3], nesterov: [false, true], weightDecay: [0, 0.05], maximize: [false, true] },
    valid: (o) => !o.nesterov || (o.momentum !== 0 && o.dampening === 0),
    scalars: { lr: 0.003, momentum: 0.5, dampening: 0.25 },
    paths: { momentum: 0.9, nesterov: true, weightDecay: 0.05 },
  },
  {
    name: 'AdaGrad',
    Class: AdaGrad,
    rule: adagradRule,
    base: {},
    grid: { lrDecay: [0, 0.01], weightDecay: [0, 0.05], initialAccumulatorValue: [0, 0.1], maximize: [false, true] },
    scalars: { lr: 0.1, eps: 1e-6 },
    paths: { lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.05 },
  },
  {
    name: 'RMSProp',
    Class: RMSProp,
    rule: rmspropRule,
    base: {},
    grid: { centered: [false, true], momentum: [0, 0.9], weightDecay: [0, 0.05], maximize: [false, true] },
    scalars: { rho: 0.9, eps: 1e-6, momentum: 0.5, centered: true },
    paths: { centered: true, momentum: 0.5, maximize: true },
  },
  {
    name: 'Adadelta',
    Class: Adadelta,
    rule: adadeltaRule,
    base: {},
    grid: { weightDecay: [0, 0.05], maximize: [false, true], rho: [0.9, 0] },
    scalars: { lr: 0.5, rho: 0.5, eps: 1e-3 },
    paths: { weightDecay: 0.05, maximize: true },
  },
  {
    name: 'NAdam',
    Class: NAdam,
    rule: nadamRule,
    base: {},
    grid: { weightDecay: [0, 0.05], maximize: [false, true], momentumDecay: [4e-3, 0.5] },
    scalars: { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-4 },
    paths: { weightDecay: 0.05, momentumDecay: 0.1 },
  },
  {
    name: 'RAdam',
    Class: RAdam,
    rule: radamRule,
    base: {},
    // Rectified from step 6 (beta2 0.999) or 7 (0.8): both paths within the 30 steps of a parity case.
    grid: { weightDecay: [0, 0.05], maximize: [false, true], beta2: [0.999, 0.8] },
    scalars: { lr: 0.01, beta1: 0.8, beta2: 0.9, eps: 1e-3 },
    paths: { weightDecay: 0.05, maximize: true },
  },
  {
    name: 'Lion',
    Class: Lion,
    rule: lionRule,
    base: {},
    grid: { weightDecay: [0, 0.1], maximize: [false, true] },
    scalars: { lr: 0.003, beta1: 0.5, beta2: 0.9 },
    paths: { weightDecay: 0.1, maximize: true },
  },
];
