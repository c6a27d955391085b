// The adapter's size thresholds, in one object so that tests can move them to reach both sides
// with small tensors. Not part of the subpath's exports.

export const tuning = {
  /**
   * On wasm, gradients of at most this many elements in all are copied into arrays kept from step
   * to step rather than read in place. tfjs puts each step's gradients at other heap offsets, and
   * new arrays make the wrapped optimizer prepare its native plan again (~0.1-0.2 ms with the
   * checks around it); a copy costs ~0.1 ns per element, so below ~1M elements copying is cheaper,
   * and far above it reading in place is.
   */
  gradCopyMaxElements: 1 << 20,
};
