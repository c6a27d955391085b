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
  /**
   * Without a `threads` option, a model of at most this many elements steps on one thread. Its
   * whole step is ~0.1-0.3 ms, and between two steps (a forward and backward pass apart) the
   * native pool's helpers have gone to sleep: waking one costs tens of microseconds on an idle
   * machine and more than the step on a busy one, for at most half of a step that is already short.
   */
  oneThreadMaxElements: 1 << 20,
};
