import { checkBoolean, describe } from '../validate';
import { STATE_DTYPES, type StateDtype } from './slot';

/**
 * Constructor options of the compact storage (README "Compact state"). `stateDtype` and
 * `masterWeights` are each group's default: a parameter group may give its own.
 */
export interface CompactOptions {
  /** How moment slots are stored: 'fp32' (default), 'bf16', or 'int8' (block-wise, tensors of 4096+ elements). */
  stateDtype?: StateDtype;
  /**
   * Half-precision parameters: keep an fp32 `master` copy that the rule updates, the parameter
   * its nearest-even rounding (true, the default), or none, the result written back by
   * stochastic rounding (false).
   */
  masterWeights?: boolean;
  /** The seed of stochastic rounding (masterWeights false): an integer in [0, 2^32), default 0. */
  seed?: number;
}

export const COMPACT_KEYS = ['stateDtype', 'masterWeights', 'seed'] as const;

/** How a group stores its state and half-precision parameters: fixed for the group's life. */
export interface GroupStorage {
  stateDtype: StateDtype;
  masterWeights: boolean;
}

/** The storage options a parameter group may give (each overrides the optimizer's). */
export const GROUP_STORAGE_KEYS = ['stateDtype', 'masterWeights'] as const;

/** A group's (or the constructor's) storage options, checked; absent ones are `defaults`'. `where` ends before the option name. */
export function checkGroupStorage(where: string, init: Record<string, unknown>, defaults: GroupStorage): GroupStorage {
  return {
    stateDtype: init.stateDtype === undefined ? defaults.stateDtype : checkStateDtype(`${where} 'stateDtype'`, init.stateDtype),
    masterWeights: init.masterWeights === undefined ? defaults.masterWeights : checkBoolean(`${where} 'masterWeights'`, init.masterWeights),
  };
}

export function checkStateDtype(where: string, value: unknown): StateDtype {
  if (value === undefined) return 'fp32';
  if (typeof value !== 'string') throw new TypeError(`${where} must be one of ${STATE_DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describe(value)}`);
  if (!(STATE_DTYPES as readonly string[]).includes(value))
    throw new RangeError(`${where} must be one of ${STATE_DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describe(value)}`);
  return value as StateDtype;
}

/**
 * Option combinations compact state refuses: centred RMSProp subtracts two separately quantised
 * moments (square_avg - grad_avg^2), which 8-bit codes can make negative, and the step NaN.
 */
export function checkCompactHyper(where: string, stateDtype: StateDtype, hyper: unknown): void {
  if (stateDtype === 'int8' && (hyper as { centered?: unknown }).centered === true)
    throw new RangeError(`${where}: 'centered' RMSProp cannot keep int8 state (square_avg - grad_avg^2 of two 8-bit moments can turn negative); use stateDtype 'bf16' or 'fp32'`);
}
