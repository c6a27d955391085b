/** Argument checks shared by every public entry. TypeError: wrong type; RangeError: bad value. */
import { types } from 'node:util';
import { loadNative } from './backends/load';

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an Array(${v.length})`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'function') return 'a function';
  return `an ${(v as object).constructor?.name ?? 'object'}`;
}

export interface NumberRule {
  min?: number;
  /** Exclusive upper bound. */
  below?: number;
  integer?: boolean;
  /** Used as a float32: must stay finite when rounded to one. */
  float32?: boolean;
  /** Must be > 0 (and, with `float32`, not round to 0). */
  positive?: boolean;
}

const FLT_MAX = 3.4028234663852886e38;

export function checkNumber(where: string, v: unknown, rule: NumberRule = {}): number {
  if (typeof v !== 'number') throw new TypeError(`${where} must be a number, got ${describe(v)}`);
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new RangeError(`${where} must be finite, got ${describe(v)}`);
  if (rule.integer && !Number.isInteger(v)) throw new RangeError(`${where} must be an integer, got ${v}`);
  if (rule.min !== undefined && v < rule.min) throw new RangeError(`${where} must be >= ${rule.min}, got ${v}`);
  if (rule.below !== undefined && v >= rule.below)
    throw new RangeError(`${where} must be in [${rule.min ?? '-inf'}, ${rule.below}), got ${v}`);
  if (rule.positive && v <= 0) throw new RangeError(`${where} must be > 0, got ${v}`);
  if (rule.float32) {
    const f = Math.fround(v);
    if (!Number.isFinite(f)) throw new RangeError(`${where} must be finite in float32 (|x| <= ${FLT_MAX}), got ${v}`);
    if (rule.positive && f === 0) throw new RangeError(`${where} must be > 0 in float32, got ${v} (rounds to 0)`);
  }
  return v;
}

export function checkBoolean(where: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where} must be a boolean, got ${describe(v)}`);
  return v;
}

export function checkOneOf<T extends string>(where: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string') throw new TypeError(`${where} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  if (!(allowed as readonly string[]).includes(v))
    throw new RangeError(`${where} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  return v as T;
}

/** An options argument: undefined gives {}, anything else must be an object. */
export function checkOptions(where: string, v: unknown): Record<string, unknown> {
  return v === undefined ? {} : checkPlainObject(where, v);
}

export function checkPlainObject(where: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v))
    throw new TypeError(`${where} must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function checkKnownKeys(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj))
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (known: ${known.join(', ')})`);
}

// The engine's own accessors, captured once: an own or inherited `buffer`, `length` or `byteOffset`
// property (or a Proxy) cannot make a check read something other than the array's real memory.
const TYPED_ARRAY = Object.getPrototypeOf(Float32Array.prototype) as object;
function intrinsicGetter(proto: object, key: PropertyKey): ((this: unknown) => unknown) | undefined {
  return Object.getOwnPropertyDescriptor(proto, key)?.get as ((this: unknown) => unknown) | undefined;
}
const getBuffer = intrinsicGetter(TYPED_ARRAY, 'buffer')!;
const getByteOffset = intrinsicGetter(TYPED_ARRAY, 'byteOffset')!;
const getLength = intrinsicGetter(TYPED_ARRAY, 'length')!;
const getTag = intrinsicGetter(TYPED_ARRAY, Symbol.toStringTag)!;
const getResizable = intrinsicGetter(ArrayBuffer.prototype, 'resizable');
const getGrowable = typeof SharedArrayBuffer === 'function' ? intrinsicGetter(SharedArrayBuffer.prototype, 'growable') : undefined;
const getDetached = intrinsicGetter(ArrayBuffer.prototype, 'detached');
const getByteLengthAB = intrinsicGetter(ArrayBuffer.prototype, 'byteLength')!;

/** Whether v is a real Float32Array (not a Proxy, not an object made from Float32Array.prototype). */
export function isFloat32Array(v: unknown): v is Float32Array {
  return typeof v === 'object' && v !== null && getTag.call(v) === 'Float32Array';
}

/** The array's element count as the engine knows it (0 once detached); v must be a real typed array. */
export function lengthOf(v: Float32Array | Uint16Array): number {
  return getLength.call(v) as number;
}

/** Where the array's elements lie: its buffer and the byte range in it, read through the intrinsics. */
export function memoryOf(v: Float32Array | Uint16Array): { buffer: ArrayBufferLike; start: number; end: number } {
  const start = getByteOffset.call(v) as number;
  const bytes = getTag.call(v) === 'Uint16Array' ? 2 : 4;
  return { buffer: getBuffer.call(v) as ArrayBufferLike, start, end: start + bytes * lengthOf(v) };
}

const sliceAB = ArrayBuffer.prototype.slice;


/** Whether the array's buffer was detached (transferred, e.g. to a worker). */
export function isDetached(v: Float32Array | Uint16Array): boolean {
  const buffer = getBuffer.call(v);
  if (getDetached) {
    try {
      return getDetached.call(buffer) === true;
    } catch {
      return false; // a SharedArrayBuffer: never detached
    }
  }
  // Node 20 lacks ArrayBuffer.prototype.detached: a detached buffer is empty and refuses slice().
  try {
    if (getByteLengthAB.call(buffer) !== 0) return false;
    sliceAB.call(buffer, 0, 0);
    return false;
  } catch (e) {
    return e instanceof TypeError && /detached/i.test(String((e as Error).message));
  }
}

function isResizable(buffer: ArrayBufferLike): boolean {
  try {
    return getResizable?.call(buffer) === true;
  } catch {
    // Not an ArrayBuffer: a SharedArrayBuffer.
    return getGrowable?.call(buffer) === true;
  }
}

export function checkFloat32Array(where: string, v: unknown): Float32Array {
  if (!(v instanceof Float32Array) && !isFloat32Array(v)) throw new TypeError(`${where} must be a Float32Array, got ${describe(v)}`);
  if (!isFloat32Array(v))
    throw new TypeError(`${where} is not a real Float32Array (a Proxy, or an object made from Float32Array.prototype)`);
  return checkOwnMemory(where, v, 'Float32Array');
}

/** A real Uint16Array (half-precision bits) on a fixed-size buffer, not detached; throws naming `where`. */
export function checkUint16Array(where: string, v: unknown): Uint16Array {
  if (typedArrayKind(v) !== 'Uint16Array') throw new TypeError(`${where} must be a Uint16Array, got ${describe(v)}`);
  const array = checkOwnMemory(where, v as Uint16Array, 'Uint16Array');
  if (isDetached(array)) throw new TypeError(`${where} is detached (its buffer was transferred, e.g. to a worker)`);
  return array;
}

function checkOwnMemory<T extends Float32Array | Uint16Array>(where: string, v: T, kind: string): T {
  if (isResizable(getBuffer.call(v) as ArrayBufferLike))
    throw new TypeError(`${where} is backed by a resizable buffer; the optimizer needs a fixed-size one`);
  // Code that reads the ordinary properties (the 'js' backend, the user's own) must see the same memory.
  if (v.length !== lengthOf(v) || v.buffer !== getBuffer.call(v) || v.byteOffset !== getByteOffset.call(v))
    throw new TypeError(`${where} has a length, buffer or byteOffset property that differs from its memory; pass a plain ${kind}`);
  return v;
}

/** Throws if any two of the arrays share memory (an array used twice, or overlapping views). */
export function checkNoOverlap(arrays: ReadonlyArray<{ where: string; array: Float32Array | Uint16Array }>): void {
  const byBuffer = new Map<ArrayBufferLike, Array<{ where: string; start: number; end: number }>>();
  const shared: Array<{ where: string; array: Float32Array }> = [];
  for (const { where, array } of arrays) {
    const { buffer, start, end } = memoryOf(array);
    if (end === start) continue;
    let list = byBuffer.get(buffer);
    if (!list) byBuffer.set(buffer, (list = []));
    list.push({ where, start, end });
    if (types.isSharedArrayBuffer(buffer) && isFloat32Array(array)) shared.push({ where, array });
  }
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++)
      if (list[i].start < list[i - 1].end)
        throw new Error(`${list[i].where} shares memory with ${list[i - 1].where}; every array must be distinct`);
  }
  // Distinct SharedArrayBuffer objects can hold the same memory (structuredClone, postMessage):
  // only their addresses tell, which the addon reads. Without it this stays a documented hazard.
  if (new Set(shared.map((s) => getBuffer.call(s.array))).size < 2) return;
  const pair = loadNative().binding?.overlappingPair(shared.map((s) => s.array));
  if (pair) throw new Error(`${shared[pair[1]].where} shares memory with ${shared[pair[0]].where} (SharedArrayBuffers over the same memory); every array must be distinct`);
}

/** The typed array's kind as the engine knows it ('Uint8Array', ...), or undefined for anything else. */
export function typedArrayKind(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null && ArrayBuffer.isView(v) ? (getTag.call(v) as string | undefined) : undefined;
}
