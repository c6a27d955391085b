/**
 * The sharding plan: the parameters of all groups, in order, form one flat index space of
 * `total` elements split into `size` contiguous slices, the first `total % size` one longer.
 */
export interface SlicePlan {
  size: number;
  /** Every parameter's full length, in flat order. */
  lengths: readonly number[];
  total: number;
  /** Elements per rank. */
  counts: number[];
  /** Where each rank's slice starts in the flat space (starts[size] = total). */
  starts: number[];
}

export function slicePlan(lengths: readonly number[], size: number): SlicePlan {
  const total = lengths.reduce((a, b) => a + b, 0);
  const base = Math.floor(total / size), extra = total % size;
  const counts = Array.from({ length: size }, (_, r) => base + (r < extra ? 1 : 0));
  const starts = [0];
  for (const c of counts) starts.push(starts[starts.length - 1] + c);
  return { size, lengths, total, counts, starts };
}

/** Parameter i's part in rank r's slice: [from, to) within the parameter (from === to: none). */
export function pieceOf(plan: SlicePlan, rank: number, i: number): { from: number; to: number; at: number } {
  let offset = 0;
  for (let k = 0; k < i; k++) offset += plan.lengths[k];
  const lo = Math.max(offset, plan.starts[rank]);
  const hi = Math.min(offset + plan.lengths[i], plan.starts[rank + 1]);
  return hi > lo ? { from: lo - offset, to: hi - offset, at: lo - plan.starts[rank] } : { from: 0, to: 0, at: 0 };
}
