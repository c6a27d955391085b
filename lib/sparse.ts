import type { Binding } from '../binding';
import type { Entry } from './params';
import type { Rule } from './rules/types';
import { types } from 'node:util';
import { checkFloat32Array, checkNoOverlap, describe, isDetached, lengthOf, memoryOf } from './validate';

/**
 * A row-sparse parameter (an embedding table): `data` holds `data.length / rowSize` rows. Before
 * each step set `indices` (row numbers, any order, duplicates allowed) and `grad`
 * (`indices.length * rowSize` values, row k for `indices[k]`); both are read at every step and may
 * be new arrays every step.
 */
export interface SparseParam {
  name?: string;
  data: Float32Array;
  rowSize: number;
  indices: Int32Array;
  grad: Float32Array;
}

/** What the optimizer keeps of a sparse parameter besides its Entry. */
export interface SparseInfo {
  rowSize: number;
  rows: number;
  /** Where a backend's planRows writes this parameter's plan, step after step. */
  scratch?: RowScratch;
}

/**
 * How a step's indices coalesce: the touched rows (ascending, distinct) and, for row u, the
 * positions order[starts[u]] .. order[starts[u+1]-1] of its grad rows in order of appearance.
 * The grads are summed from it where they are used (gatherRows, or the native row step).
 */
export interface RowPlan {
  rows: Int32Array;
  order: Uint32Array;
  starts: Uint32Array;
}

/**
 * Buffers a coalescing plan is written into, reused from step to step (grown, never shrunk), so
 * that planning allocates only the plan's three views.
 */
export class RowScratch {
  rows = new Int32Array(0);
  order = new Uint32Array(0);
  starts = new Uint32Array(1);

  /** Room for a plan of n indices. */
  reserve(n: number): void {
    if (this.order.length >= n) return;
    const capacity = Math.max(n, 2 * this.order.length);
    this.rows = new Int32Array(capacity);
    this.order = new Uint32Array(capacity);
    this.starts = new Uint32Array(capacity + 1);
  }

  /** The plan of n indices over `unique` distinct rows, as written into the buffers. */
  plan(n: number, unique: number): RowPlan {
    return { rows: this.rows.subarray(0, unique), order: this.order.subarray(0, n), starts: this.starts.subarray(0, unique + 1) };
  }
}

/**
 * A backend's way to plan a step's coalescing: the plan of `indices` for a table of `rowCount`
 * rows (the RowPlan coalescePlan makes, possibly in `scratch`), or the position of the first index
 * outside [0, rowCount). Writes nothing but `scratch`.
 */
export type RowPlanner = (indices: Int32Array, rowCount: number, scratch: RowScratch) => RowPlan | number;

/** The planner in TypeScript: the range check, then coalescePlan. */
export const planRowsJs: RowPlanner = (indices, rowCount) => {
  for (let k = 0; k < indices.length; k++) if (indices[k] < 0 || indices[k] >= rowCount) return k;
  return coalescePlan(indices);
};

/** The native planner: the addon's coalesceRows (the same plan in one pass and a radix sort) into the scratch. */
export function planRowsNative(coalesceRows: Binding['coalesceRows']): RowPlanner {
  return (indices, rowCount, scratch) => {
    const n = indices.length;
    scratch.reserve(n);
    // Every Int32Array index is below 2^31: a larger table checks as one of 2^31 rows.
    const unique = coalesceRows(indices, Math.min(rowCount, 2 ** 31), scratch.rows, scratch.order, scratch.starts);
    return unique < 0 ? -1 - unique : scratch.plan(n, unique);
  };
}

/** One sparse parameter's step: its coalescing plan and its grad as given. */
export interface CoalescedRows {
  entry: Entry;
  plan: RowPlan;
  grad: Float32Array;
}

/**
 * Whether the optimizer may step these entries with these hyperparameters: sparse ones only where
 * the spec takes them (and its hyperparameters allow), dense ones not for SparseAdam.
 */
export function checkSparseUse<H>(
  owner: string,
  spec: { sparse?: 'only' | 'also'; sparseProblem?(h: H): string | null },
  entries: readonly Entry[],
  hyper: H,
  hasStepRows: boolean,
): void {
  const sparse = spec.sparse;
  for (const e of entries) {
    if (!e.sparse) {
      if (sparse === 'only')
        throw new TypeError(`${owner}: ${e.where} is a dense parameter; ${owner} takes sparse parameters only ({ data, rowSize, indices, grad })`);
      continue;
    }
    if (sparse === undefined)
      throw new TypeError(`${owner}: ${e.where} is a sparse parameter (rowSize, indices); ${owner} takes dense parameters only: use SparseAdam (or AdaGrad or SGD) for it`);
    if (!hasStepRows) throw new Error(`${owner}: ${e.where} is a sparse parameter, which this backend cannot step; use backend 'native' or 'js'`);
    const problem = spec.sparseProblem?.(hyper) ?? null;
    if (problem) throw new RangeError(`${owner}: ${e.where} is a sparse parameter: ${problem}`);
  }
}

const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get!;

/** Whether v is a real Int32Array (its engine tag, not a spoofable property). */
function isInt32Array(v: unknown): v is Int32Array {
  return typeof v === 'object' && v !== null && typedArrayTag.call(v) === 'Int32Array';
}

/** Whether a parameter object is sparse (has rowSize or indices). */
export function isSparseObject(p: Record<string, unknown>): boolean {
  return p.rowSize !== undefined || p.indices !== undefined;
}

/** rowSize checked against the data: a positive integer dividing data.length. */
export function checkRowSize(at: string, rowSize: unknown, length: number): SparseInfo {
  if (typeof rowSize !== 'number') throw new TypeError(`${at}: rowSize must be a number, got ${describe(rowSize)}`);
  if (!Number.isInteger(rowSize) || rowSize < 1 || length % rowSize !== 0)
    throw new RangeError(`${at}: rowSize must be a positive integer that divides data.length (${length}), got ${rowSize}`);
  return { rowSize, rows: length / rowSize };
}

// indices, as a real Int32Array of a fixed-size, attached buffer.
function checkIndices(at: string, v: unknown): Int32Array {
  if (!isInt32Array(v)) throw new TypeError(`${at}: indices must be an Int32Array, got ${describe(v)}`);
  const asFloat = v as unknown as Float32Array; // the intrinsic getters are shared by every typed array of 4-byte elements
  if (isDetached(asFloat)) throw new TypeError(`${at}: indices is detached (its buffer was transferred, e.g. to a worker)`);
  if (v.length !== lengthOf(asFloat)) throw new TypeError(`${at}: indices has a length property that differs from its memory; pass a plain Int32Array`);
  return v;
}

/**
 * The step's input of every sparse entry (data, indices, grad), read from the parameter objects now
 * and checked whole (types, lengths, row range, overlap with any array the step writes) before
 * anything changes; then coalesced. `written`: every other data array and every state array.
 */
export function readSparse(
  owner: string,
  entries: readonly Entry[],
  written: ReadonlyArray<{ where: string; array: Float32Array }>,
  planRows: RowPlanner = planRowsJs,
): CoalescedRows[] {
  const inputs = entries.map((e) => {
    const at = `${owner}: ${e.where}`;
    const p = e.param as unknown as Record<string, unknown>;
    const info = e.sparse!;
    const data = p.data === e.data ? e.data : checkFloat32Array(`${at}: data`, p.data);
    if (isDetached(data as Float32Array)) throw new TypeError(`${at}: data is detached (its buffer was transferred, e.g. to a worker)`);
    if (lengthOf(data as Float32Array) !== e.length)
      throw new RangeError(`${at}: data has length ${lengthOf(data as Float32Array)}; the parameter has length ${e.length}`);
    if (p.rowSize !== info.rowSize)
      throw new RangeError(`${at}: rowSize changed from ${info.rowSize} to ${describe(p.rowSize)}; it is fixed when the optimizer is made`);
    const indices = checkIndices(at, p.indices);
    const grad = checkFloat32Array(`${at}: grad`, p.grad);
    if (isDetached(grad)) throw new TypeError(`${at}: grad is detached (its buffer was transferred, e.g. to a worker)`);
    if (grad.length !== indices.length * info.rowSize)
      throw new RangeError(`${at}: grad has length ${grad.length}, expected indices.length * rowSize = ${indices.length} * ${info.rowSize} = ${indices.length * info.rowSize}`);
    // Planned now (into the entry's scratch only), checking each index's range on the way.
    const plan = planRows(indices, info.rows, (info.scratch ??= new RowScratch()));
    if (typeof plan === 'number')
      throw new RangeError(`${at}: indices[${plan}] is ${indices[plan]}, outside [0, ${info.rows}) (the table has ${info.rows} rows)`);
    return { entry: e, data: data as Float32Array, indices, grad, plan };
  });
  // What the step writes: the other arrays as they are, the sparse data as read now.
  const all = [...written, ...inputs.map(({ entry, data }) => ({ where: `${entry.where} data`, array: data }))];
  const inputsMemory = inputs.flatMap(({ entry, indices, grad }) => [
    { where: `${entry.where} indices`, array: indices as unknown as Float32Array },
    { where: `${entry.where} grad`, array: grad },
  ]);
  try {
    if (inputs.some(({ entry, data }) => data !== entry.data)) checkNoOverlap(all);
    // Inputs may share memory among themselves; none may share memory with what a step writes.
    // An input on a buffer nothing written is on cannot (a SharedArrayBuffer may alias another).
    const writtenBuffers = new Set(all.map(({ array }) => memoryOf(array).buffer));
    for (const input of inputsMemory) {
      const buffer = memoryOf(input.array).buffer;
      if (writtenBuffers.has(buffer) || types.isSharedArrayBuffer(buffer)) checkNoOverlap([...all, input]);
    }
  } catch (err) {
    throw new Error(`${owner}: ${(err as Error).message}`);
  }
  // Nothing has changed so far; from here on nothing throws.
  return inputs.map(({ entry, data, grad, plan }) => {
    entry.data = data;
    return { entry, grad, plan };
  });
}

/**
 * Sums the rows of duplicate indices: the rows in ascending order, each row's duplicates added in
 * their order of appearance, in float32. Deterministic: it depends on the values only, and the
 * native row step sums in the same order (native/sparse_rows.cc), so every backend agrees.
 */
export function coalesce(indices: Int32Array, grad: Float32Array, rowSize: number): { rows: Int32Array; grad: Float32Array } {
  const plan = coalescePlan(indices);
  return { rows: plan.rows, grad: gatherRows(plan, grad, rowSize) };
}

/** The coalescing plan of these indices (RowPlan): a stable sort by row, then the runs of equal rows. */
export function coalescePlan(indices: Int32Array): RowPlan {
  const n = indices.length;
  const order = sortedOrder(indices);
  let unique = 0;
  for (let k = 0; k < n; k++) if (k === 0 || indices[order[k]] !== indices[order[k - 1]]) unique++;
  const rows = new Int32Array(unique);
  const starts = new Uint32Array(unique + 1);
  let u = -1;
  for (let k = 0; k < n; k++) {
    const row = indices[order[k]];
    if (k === 0 || row !== rows[u]) {
      rows[++u] = row;
      starts[u] = k;
    }
  }
  starts[unique] = n;
  return { rows, order, starts };
}

/** The coalesced grad of a plan: row u is the sum, in order, of the grad rows the plan lists for it. */
export function gatherRows(plan: RowPlan, grad: Float32Array, rowSize: number): Float32Array {
  const { order, starts } = plan;
  const out = new Float32Array(plan.rows.length * rowSize);
  for (let u = 0; u < plan.rows.length; u++) {
    const dst = u * rowSize;
    let src = order[starts[u]] * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j] = grad[src + j];
    for (let k = starts[u] + 1; k < starts[u + 1]; k++) {
      src = order[k] * rowSize;
      // A Float32Array store rounds the double sum of two floats: exactly float32 addition.
      for (let j = 0; j < rowSize; j++) out[dst + j] += grad[src + j];
    }
  }
  return out;
}

/**
 * Positions 0..n-1 sorted by (indices[k], k): a least-significant-digit radix sort on the row
 * (11 bits a pass, stable, so equal rows keep their order of appearance). O(n) per pass.
 */
function sortedOrder(indices: Int32Array): Uint32Array {
  const n = indices.length;
  let order = new Uint32Array(n), spare = new Uint32Array(n);
  let max = 0, ascending = true;
  for (let k = 0; k < n; k++) {
    order[k] = k;
    if (indices[k] > max) max = indices[k];
    if (k > 0 && indices[k] < indices[k - 1]) ascending = false;
  }
  if (ascending) return order;
  const bits = 32 - Math.clz32(max);
  const count = new Uint32Array(2049);
  for (let shift = 0; shift < bits; shift += 11) {
    count.fill(0);
    for (let k = 0; k < n; k++) count[((indices[order[k]] >>> shift) & 2047) + 1]++;
    for (let d = 1; d <= 2048; d++) count[d] += count[d - 1];
    for (let k = 0; k < n; k++) spare[count[(indices[order[k]] >>> shift) & 2047]++] = order[k];
    [order, spare] = [spare, order];
  }
  return order;
}

/**
 * The 'js' backend's row step: the grads coalesced (gatherRows), then the rule's TypeScript update
 * on each touched row (views, so the element math is the dense rule's exactly). `slots`: param,
 * grad as given, state slots.
 */
export function stepRowsJs(rule: Rule<never>, scalars: Float32Array, flags: number, given: ReadonlyArray<Float32Array | null>, plan: RowPlan, rowSize: number): void {
  const rows = plan.rows;
  const slots = given.map((s, j) => (j === 1 ? gatherRows(plan, s!, rowSize) : s));
  const view: Array<Float32Array | null> = new Array(slots.length).fill(null);
  for (let k = 0; k < rows.length; k++) {
    const at = rows[k] * rowSize;
    for (let j = 0; j < slots.length; j++) {
      const s = slots[j];
      view[j] = s ? (j === 1 ? s.subarray(k * rowSize, (k + 1) * rowSize) : s.subarray(at, at + rowSize)) : null;
    }
    rule.update(scalars, flags, view, rowSize);
  }
}

/**
 * Whether the step would leave the touched rows finite: the rule run on copies of those rows
 * (elementwise, so the same bits as the real step on any backend). Nothing is written.
 */
export function rowsStayFinite(rule: Rule<never>, scalars: Float32Array, flags: number, slots: ReadonlyArray<Float32Array | null>, plan: RowPlan, rowSize: number): boolean {
  const rows = plan.rows;
  const n = rows.length * rowSize;
  const copies = slots.map((s, j) => {
    if (!s) return null;
    if (j === 1) return gatherRows(plan, s, rowSize);
    const c = new Float32Array(n);
    for (let k = 0; k < rows.length; k++) c.set(s.subarray(rows[k] * rowSize, (rows[k] + 1) * rowSize), k * rowSize);
    return c;
  });
  rule.update(scalars, flags, copies, n);
  return copies.every((c, j) => j === 1 || c === null || c.every(Number.isFinite));
}
