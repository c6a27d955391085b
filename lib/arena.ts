/** Elements per arena block by default: 1 GiB of float32. A longer array gets a block of its own. */
const BLOCK_ELEMENTS = 2 ** 28;
/** Each array starts on a 64-byte boundary (16 floats) within its block. */
const ALIGN = 16;

/**
 * Zeroed Float32Arrays of the given lengths, carved in order out of a few large allocations.
 * Arrays next to each other in the list lie next to each other in memory, so a step over many
 * small tensors streams each state slot through memory instead of hopping between scattered
 * small allocations (and, through allocFloat32, large blocks get huge pages).
 */
export function allocArena(
  alloc: (n: number) => Float32Array,
  lengths: readonly number[],
  blockElements = BLOCK_ELEMENTS,
): Float32Array[] {
  const out: Float32Array[] = new Array(lengths.length);
  const padded = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
  let first = 0;
  while (first < lengths.length) {
    // The block: as many arrays from `first` on as fit, and at least one.
    let size = padded(lengths[first]);
    let last = first + 1;
    while (last < lengths.length && size + padded(lengths[last]) <= blockElements) size += padded(lengths[last++]);
    const block = alloc(size);
    for (let i = first, offset = 0; i < last; offset += padded(lengths[i++]))
      out[i] = block.subarray(offset, offset + lengths[i]);
    first = last;
  }
  return out;
}
