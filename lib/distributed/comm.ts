import { checkBoolean, checkFloat32Array, checkKnownKeys, checkOptions, describe } from '../validate';
import type { MpiBinding } from './load';
import { slicePlan } from './plan';
import type { StateDict } from '../state-dict';
import { gatherStateDict } from './state';

/**
 * One process's place in an MPI job (MPI_COMM_WORLD), from distributed.mpi(). Collectives must be
 * called by every rank in the same order. Nothing here uses MPI's own floating-point reductions:
 * sums are formed locally in rank order, so their bits never depend on MPI's algorithm.
 */
export class Comm {
  readonly rank: number;
  readonly size: number;
  /** The MPI thread level the library granted ('serialized' or 'multiple' allow stepAsync). */
  readonly threadLevel: string;
  /** The MPI library's version line. */
  readonly library: string;
  /** @internal */
  readonly binding: MpiBinding;

  /** @internal */
  constructor(binding: MpiBinding) {
    const info = binding.init();
    this.binding = binding;
    this.rank = info.rank;
    this.size = info.size;
    this.threadLevel = info.threadLevel;
    this.library = info.library;
  }

  /** Whether finalize() was called (or MPI was finalised otherwise). */
  get finalized(): boolean {
    return this.binding.state() === 'finalized';
  }

  /** @internal Throws unless the communicator can still be used. */
  checkLive(owner: string): void {
    if (this.finalized) throw new Error(`${owner}: the communicator was finalised (comm.finalize()); MPI cannot restart in this process`);
  }

  barrier(): void {
    this.checkLive('comm.barrier');
    this.binding.barrier();
  }

  /**
   * Sums each array over all ranks, in place, element by element in rank order 0..N-1 in float32
   * (then divided by N with `average`): the same bits for any MPI algorithm. Every rank must give
   * arrays of the same lengths.
   */
  allReduce(arrays: Float32Array[], options?: { average?: boolean }): void {
    const owner = 'comm.allReduce';
    this.checkLive(owner);
    const opts = checkOptions(`${owner}: options`, options);
    checkKnownKeys(`${owner}: options`, opts, ['average']);
    const average = opts.average === undefined ? false : checkBoolean(`${owner}: option 'average'`, opts.average);
    if (!Array.isArray(arrays)) throw new TypeError(`${owner}: arrays must be an array of Float32Array, got ${describe(arrays)}`);
    const list = arrays.map((a, i) => checkFloat32Array(`${owner}: arrays[${i}]`, a));
    const lengths = list.map((a) => a.length);
    const key = new TextEncoder().encode(JSON.stringify(lengths));
    const same = new TextDecoder().decode(this.binding.broadcast(key)) === JSON.stringify(lengths);
    if (!this.binding.agree(same))
      throw new RangeError(`${owner}: the ranks give arrays of different lengths (${same ? 'another rank differs from' : `rank ${this.rank}'s [${lengths.join(', ')}] differ from`} rank 0's)`);
    const plan = slicePlan(lengths, this.size);
    const flat = new Float32Array(plan.total);
    let at = 0;
    for (const a of list) flat.set(a, (at += a.length) - a.length);
    const mine = plan.counts[this.rank];
    const out = new Float32Array(mine);
    this.binding.reduceScatter(flat, plan.counts, new Float32Array(mine * this.size), out, average);
    flat.set(out, plan.starts[this.rank]);
    this.binding.allGather(flat, plan.counts);
    at = 0;
    for (const a of list) a.set(flat.subarray(at, (at += a.length)));
  }

  /**
   * The full state dict of a sharded optimizer, on rank 0 (null on the others): every rank's slice
   * gathered and put in place. A collective. It loads into an optimizer of any world size, sharded
   * or not.
   */
  gatherStateDict<H>(optimizer: { stateDict(): StateDict<H> }): StateDict<H> | null {
    this.checkLive('comm.gatherStateDict');
    return gatherStateDict(this, optimizer.stateDict());
  }

  /** Ends MPI in this process (also done at exit). Afterwards every collective throws. */
  finalize(): void {
    this.binding.finalize();
  }
}
