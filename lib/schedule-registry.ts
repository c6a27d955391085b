import * as builtin from './schedules';
import type { Schedule } from './schedules';
import { describe } from './validate';

/**
 * Schedules that checkpoints can record: each built-in schedule is made through `serialisable`,
 * which tags the function it returns with its name and arguments, so a checkpoint stores
 * `{ "$schedule": "cosine", "args": [0.05, { "totalSteps": 25 }] }` and a load rebuilds it. A
 * schedule among the arguments (a sequence of schedules) is recorded the same way, nested. A
 * schedule with internal state (one fed metrics) also gives `state`/`restore`. Any other function
 * is code: a checkpoint records it as custom and a load keeps the function the optimizer has.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Builder = (...args: any[]) => Schedule;

interface Hooks {
  /** The schedule's mutable state, as JSON-able data. */
  state?(schedule: Schedule): unknown;
  /** Puts a recorded state back into a freshly built schedule. */
  restore?(schedule: Schedule, state: unknown): void;
}

/** A recorded schedule, as JSON. */
export interface ScheduleRecord {
  $schedule: string;
  args: unknown[];
  state?: unknown;
}

const RECORDS = new WeakMap<Schedule, { name: string; args: unknown[] }>();
const HOOKS = new Map<string, Hooks>();
const BUILDERS = new Map<string, Builder>();

// Arguments as JSON-able data; a nested schedule becomes its record; anything else is not recordable.
function encodeArg(v: unknown): unknown {
  if (typeof v === 'function') {
    const record = recordSchedule(v as Schedule);
    if (!record) throw new Error('not recordable');
    return record;
  }
  if (Array.isArray(v)) return v.map(encodeArg);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeArg(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('not recordable');
  return v;
}

function serialisable<B extends Builder>(name: string, build: B, hooks: Hooks = {}): B {
  BUILDERS.set(name, build);
  HOOKS.set(name, hooks);
  const made = (...args: unknown[]): Schedule => {
    const schedule = build(...args);
    // Optional arguments left out (or given as undefined) are left out of the record too.
    let given = args.length;
    while (given > 0 && args[given - 1] === undefined) given--;
    try {
      RECORDS.set(schedule, { name, args: encodeArg(args.slice(0, given)) as unknown[] });
    } catch {
      // An argument that is code (a custom schedule inside a sequence): the result is custom too.
    }
    return schedule;
  };
  Object.defineProperty(made, 'name', { value: name });
  return made as B;
}

/** Every built-in schedule, one line each. */
export const SCHEDULES = {
  constant: serialisable('constant', builtin.constant),
  inverseSqrt: serialisable('inverseSqrt', builtin.inverseSqrt),
  stepDecay: serialisable('stepDecay', builtin.stepDecay),
  exponential: serialisable('exponential', builtin.exponential),
  cosine: serialisable('cosine', builtin.cosine),
};

export const { constant, inverseSqrt, stepDecay, exponential, cosine } = SCHEDULES;

/** A built-in schedule's record (name, arguments, state), or null for a custom function. */
export function recordSchedule(schedule: Schedule): ScheduleRecord | null {
  const made = RECORDS.get(schedule);
  if (!made) return null;
  const state = HOOKS.get(made.name)?.state?.(schedule);
  return state === undefined ? { $schedule: made.name, args: made.args } : { $schedule: made.name, args: made.args, state };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, '$schedule');
}

function decodeArg(where: string, v: unknown): unknown {
  if (isRecord(v)) return rebuildSchedule(where, v);
  if (Array.isArray(v)) return v.map((x) => decodeArg(where, x));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeArg(where, x)]));
  return v;
}

/** The schedule a record describes, built again through its builder's own checks. */
export function rebuildSchedule(where: string, record: unknown): Schedule {
  if (!isRecord(record)) throw new TypeError(`${where} must be a schedule record { $schedule, args }, got ${describe(record)}`);
  const name = record.$schedule;
  const build = typeof name === 'string' ? BUILDERS.get(name) : undefined;
  if (typeof name !== 'string' || !build) throw new Error(`${where} names the schedule ${describe(name)}, which is not one of ${[...BUILDERS.keys()].join(', ')}`);
  if (!Array.isArray(record.args)) throw new TypeError(`${where}: args of the '${name}' schedule must be an array, got ${describe(record.args)}`);
  let schedule: Schedule;
  try {
    schedule = build(...(record.args.map((a) => decodeArg(where, a)) as unknown[]));
  } catch (e) {
    throw new (e instanceof TypeError || e instanceof RangeError ? e.constructor as ErrorConstructor : Error)(`${where}: ${(e as Error).message}`);
  }
  RECORDS.set(schedule, { name, args: record.args });
  if (record.state !== undefined) HOOKS.get(name)?.restore?.(schedule, record.state);
  return schedule;
}
