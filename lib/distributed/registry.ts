/**
 * The grad arrays of sharded optimizers: clipGradNorm refuses them (each rank holds only its own
 * grads before the step sums them, so their norm is not the norm one process would clip by).
 * Kept apart from the communicator so that clip.ts loads nothing of MPI.
 */
const shardedGrads = new WeakSet<Float32Array>();

export function markShardedGrad(grad: Float32Array): void {
  shardedGrads.add(grad);
}

export function unmarkShardedGrad(grad: Float32Array): void {
  shardedGrads.delete(grad);
}

export function isShardedGrad(grad: Float32Array): boolean {
  return shardedGrads.has(grad);
}
