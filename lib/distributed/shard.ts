import type { Entry } from '../params';
import { checkTensor, tensorLength } from '../tensor';
import { describe } from '../validate';
import { Comm } from './comm';
import { markShardedGrad, unmarkShardedGrad } from './registry';
import { type SlicePlan, pieceOf, slicePlan } from './plan';

/** What a sharded state dict and checkpoint record about their slice. */
export interface ShardInfo {
  worldSize: number;
  rank: number;
  /** This rank's slice of the flat index space: [start, end). */
  start: number;
  end: number;
  /** Every parameter's full length, in flat order (groups after one another). */
  lengths: number[];
}

const MAX_EXCHANGE = 2 ** 31 - 1;

/** A rank's view of one parameter: its slice of data, and its slice of the reduced grads. */
interface Piece {
  entry: Entry;
  from: number;
  to: number;
  /** Where the piece sits in this rank's slice. */
  at: number;
  view: { name: string; data: Float32Array; grad: Float32Array };
}

/**
 * The distributed side of an optimizer with `shard: comm` (ZeRO stage 1). The optimizer runs on
 * this rank's views (`localEntries`): state exists for the slice only, and every rule, backend and
 * ISA is reused unchanged. A step is reduce() (grads summed over ranks in rank order), the local
 * update, then gather() (every rank's updated slice to every rank). The user's grads are read,
 * never written.
 */
export class Shard {
  readonly comm: Comm;
  readonly plan: SlicePlan;
  readonly average: boolean;
  readonly #owner: string;
  readonly #pieces: Piece[];
  /** All grads packed for the exchange, then all params for the gather: one flat buffer. */
  readonly #flat: Float32Array;
  readonly #scratch: Float32Array;
  /** This rank's reduced grads: the local grad views point here. */
  readonly #reduced: Float32Array;

  constructor(owner: string, comm: unknown, average: boolean, entries: readonly Entry[]) {
    if (!(comm instanceof Comm)) throw new TypeError(`${owner}: option 'shard' must be a communicator from distributed.mpi(), got ${describe(comm)}`);
    comm.checkLive(`${owner}: option 'shard'`);
    const odd = entries.find((e) => e.sparse || !(e.data instanceof Float32Array));
    if (odd)
      throw new TypeError(`${owner}: option 'shard' takes dense Float32Array parameters; ${odd.where} is ${odd.sparse ? 'row-sparse' : 'a DeviceTensor'}`);
    checkSameParams(owner, comm, entries);
    this.#owner = owner;
    this.comm = comm;
    this.average = average;
    this.plan = slicePlan(entries.map((e) => e.length), comm.size);
    // MPI's counts and displacements are ints: one exchange spans at most 2^31-1 elements.
    if (this.plan.total > MAX_EXCHANGE)
      throw new RangeError(`${owner}: option 'shard': the parameters hold ${this.plan.total} elements; a sharded optimizer takes at most 2^31-1 (MPI's int counts)`);
    const mine = this.plan.counts[comm.rank];
    this.#flat = new Float32Array(this.plan.total);
    this.#scratch = new Float32Array(mine * comm.size);
    this.#reduced = new Float32Array(mine);
    this.#pieces = entries.map((entry, i) => {
      const { from, to, at } = pieceOf(this.plan, comm.rank, i);
      const empty = from === to;
      const data = empty ? new Float32Array(0) : (entry.data as Float32Array).subarray(from, to);
      const grad = empty ? new Float32Array(0) : this.#reduced.subarray(at, at + to - from);
      return { entry, from, to, at, view: { name: entry.name, data, grad } };
    });
    for (const e of entries) markShardedGrad(e.grad as Float32Array);
  }

  /** The optimizer was disposed: its grads may be clipped again. */
  release(): void {
    for (const { entry } of this.#pieces) unmarkShardedGrad(entry.grad as Float32Array);
  }

  /** The rank's entries, for the local optimizer: same names and groups, slice-long arrays. */
  localEntry(e: Entry): Entry {
    const p = this.#pieces.find((x) => x.entry === e)!;
    return { where: e.where, name: e.name, length: p.to - p.from, param: p.view, data: p.view.data, grad: p.view.grad, state: new Map(), dtype: 'fp32' };
  }

  names(): string[] {
    return this.#pieces.map((p) => p.entry.name);
  }

  info(): ShardInfo {
    const { rank, size } = this.comm;
    return { worldSize: size, rank, start: this.plan.starts[rank], end: this.plan.starts[rank + 1], lengths: [...this.plan.lengths] };
  }

  /**
   * The user's parameter arrays as they are now: a replaced array (a Float32Array of the full
   * length) is taken, and the local views follow it. Throws, changing nothing, on anything else.
   */
  sync(what: string): void {
    const owner = `${this.#owner.split(':')[0]}.${what}`;
    this.comm.checkLive(owner);
    const now = this.#pieces.map(({ entry }) => {
      const p = entry.param as { data: unknown; grad: unknown };
      const arrays = (['data', 'grad'] as const).map((which) => {
        const v = which === 'data' ? p.data : p.grad;
        const old = which === 'data' ? entry.data : entry.grad;
        if (v === old && tensorLength(old as Float32Array) === entry.length) return old as Float32Array;
        const t = checkTensor(`${owner}: ${entry.where}: ${which}`, v);
        if (!(t instanceof Float32Array)) throw new TypeError(`${owner}: ${entry.where}: ${which} must stay a Float32Array (sharded)`);
        if (t.length !== entry.length) throw new RangeError(`${owner}: ${entry.where}: ${which} has length ${t.length}; the parameter has length ${entry.length}`);
        return t;
      });
      return arrays as [Float32Array, Float32Array];
    });
    this.#pieces.forEach((piece, i) => {
      const [data, grad] = now[i];
      if (data !== piece.entry.data && piece.to > piece.from) piece.view.data = data.subarray(piece.from, piece.to);
      if (grad !== piece.entry.grad) {
        unmarkShardedGrad(piece.entry.grad as Float32Array);
        markShardedGrad(grad);
      }
      piece.entry.data = data;
      piece.entry.grad = grad;
    });
  }

  #packGrads(): void {
    let at = 0;
    for (const { entry } of this.#pieces) {
      this.#flat.set(entry.grad as Float32Array, at);
      at += entry.length;
    }
  }

  /** This rank's slice of the grads, summed over ranks in rank order (and averaged), into the views. */
  reduce(): void {
    this.#packGrads();
    this.comm.binding.reduceScatter(this.#flat, this.plan.counts, this.#scratch, this.#reduced, this.average);
  }

  async reduceAsync(): Promise<void> {
    this.#packGrads();
    await this.comm.binding.reduceScatterAsync(this.#flat, this.plan.counts, this.#scratch, this.#reduced, this.average);
  }

  #packParams(): void {
    const start = this.plan.starts[this.comm.rank];
    for (const p of this.#pieces) if (p.to > p.from) this.#flat.set(p.view.data, start + p.at);
  }

  #unpackParams(): void {
    let at = 0;
    for (const { entry } of this.#pieces) {
      (entry.data as Float32Array).set(this.#flat.subarray(at, at + entry.length));
      at += entry.length;
    }
  }

  /** Every rank's updated slice to every rank: afterwards all ranks hold the same parameters. */
  gather(): void {
    this.#packParams();
    this.comm.binding.allGather(this.#flat, this.plan.counts);
    this.#unpackParams();
  }

  async gatherAsync(): Promise<void> {
    this.#packParams();
    await this.comm.binding.allGatherAsync(this.#flat, this.plan.counts);
    this.#unpackParams();
  }

  /** Whether `ok` holds on every rank. */
  agree(ok: boolean): boolean {
    return this.comm.binding.agree(ok);
  }

  /** zeroGrad on a sharded optimizer: the user's full grads. */
  zeroGrads(): void {
    for (const { entry } of this.#pieces) (entry.grad as Float32Array).fill(0);
  }
}

/**
 * One collective at construction: every rank's parameter list (groups, names, lengths) against
 * rank 0's. All ranks throw together when any differs (the differing rank names the difference).
 */
function checkSameParams(owner: string, comm: Comm, entries: readonly Entry[]): void {
  const mine = entries.map((e) => [e.where, e.length]);
  const text = JSON.stringify(mine);
  const theirs = JSON.parse(new TextDecoder().decode(comm.binding.broadcast(new TextEncoder().encode(text)))) as Array<[string, number]>;
  let problem: string | null = null;
  if (theirs.length !== mine.length) problem = `rank ${comm.rank} has ${mine.length} parameters, rank 0 has ${theirs.length}`;
  else
    for (let i = 0; i < mine.length && !problem; i++) {
      const [where, length] = mine[i] as [string, number];
      if (where !== theirs[i][0]) problem = `parameter ${i} is ${where} on rank ${comm.rank} but ${theirs[i][0]} on rank 0`;
      else if (length !== theirs[i][1]) problem = `${where} has length ${length} on rank ${comm.rank} but ${theirs[i][1]} on rank 0`;
    }
  if (!comm.binding.agree(problem === null))
    throw new Error(`${owner}: option 'shard': the ranks' parameter lists differ (${problem ?? `another rank's differs from rank 0's; see its error`}); every rank must give the same groups, names and lengths`);
}
