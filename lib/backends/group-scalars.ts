/**
 * Each group's scalars as views into the packed per-step array (group after group), made once for
 * a given packed array: for backends that step group by group.
 */
export function groupScalarViews(scalarCount: number, groups: number): (packed: Float32Array) => Float32Array[] {
  let last: Float32Array | null = null;
  let views: Float32Array[] = [];
  return (packed) => {
    if (packed !== last) {
      last = packed;
      views = Array.from({ length: groups }, (_, g) => packed.subarray(g * scalarCount, (g + 1) * scalarCount));
    }
    return views;
  };
}
