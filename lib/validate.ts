/** Argument checks shared by every public entry. TypeError: wrong type; RangeError: bad value. */

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
}

export function checkNumber(where: string, v: unknown, rule: NumberRule = {}): number {
  if (typeof v !== 'number') throw new TypeError(`${where} must be a number, got ${describe(v)}`);
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new RangeError(`${where} must be finite, got ${describe(v)}`);
  if (rule.integer && !Number.isInteger(v)) throw new RangeError(`${where} must be an integer, got ${v}`);
  if (rule.min !== undefined && v < rule.min) throw new RangeError(`${where} must be >= ${rule.min}, got ${v}`);
  if (rule.below !== undefined && v >= rule.below)
    throw new RangeError(`${where} must be in [${rule.min ?? '-inf'}, ${rule.below}), got ${v}`);
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

export function checkPlainObject(where: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v))
    throw new TypeError(`${where} must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function checkKnownKeys(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj))
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (known: ${known.join(', ')})`);
}

export function checkFloat32Array(where: string, v: unknown): Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`${where} must be a Float32Array, got ${describe(v)}`);
  const buffer = v.buffer as ArrayBuffer & { resizable?: boolean; growable?: boolean };
  if (buffer.resizable || buffer.growable)
    throw new TypeError(`${where} is backed by a resizable buffer; the optimizer needs a fixed-size one`);
  return v;
}

/** Throws if any two of the arrays share memory (an array used twice, or overlapping views). */
export function checkNoOverlap(arrays: ReadonlyArray<{ where: string; array: Float32Array }>): void {
  const byBuffer = new Map<ArrayBufferLike, Array<{ where: string; start: number; end: number }>>();
  for (const { where, array } of arrays) {
    if (array.byteLength === 0) continue;
    let list = byBuffer.get(array.buffer);
    if (!list) byBuffer.set(array.buffer, (list = []));
    list.push({ where, start: array.byteOffset, end: array.byteOffset + array.byteLength });
  }
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++)
      if (list[i].start < list[i - 1].end)
        throw new Error(`${list[i].where} shares memory with ${list[i - 1].where}; every array must be distinct`);
  }
}
