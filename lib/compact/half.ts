import { describe, typedArrayKind } from '../validate';
import { allocFloat32 } from '../memory';
import { bf16Narrow, bf16Widen, f16Narrow, f16Widen } from './convert';
import { Storage } from './slot';
import { bf16NarrowSr, f16NarrowSr, srHash, srKey } from './stochastic';

/** How a parameter's data and grad are stored: float32, bfloat16 or IEEE binary16 bits. */
export type ParamDtype = 'fp32' | 'bf16' | 'fp16';
export const PARAM_DTYPES: readonly ParamDtype[] = ['fp32', 'bf16', 'fp16'];

export const halfStorage = (dtype: 'bf16' | 'fp16'): Storage.bf16 | Storage.f16 => (dtype === 'bf16' ? Storage.bf16 : Storage.f16);

/**
 * A parameter's `dtype` against its arrays (Uint16Array for bf16/fp16, Float32Array for fp32, the
 * same kind and length for data and grad); throws naming `where`, returns the dtype.
 */
export function checkParamDtype(where: string, dtype: unknown, data: unknown, grad: unknown): ParamDtype {
  if (dtype !== undefined && !(PARAM_DTYPES as readonly unknown[]).includes(dtype)) {
    const Kind = typeof dtype === 'string' ? RangeError : TypeError;
    throw new Kind(`${where}: dtype must be one of ${PARAM_DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describe(dtype)}`);
  }
  const half = dtype === 'bf16' || dtype === 'fp16';
  for (const [which, v] of [
    ['data', data],
    ['grad', grad],
  ] as const) {
    const kind = typedArrayKind(v);
    if (kind === 'Uint16Array' && !half)
      throw new TypeError(`${where}: ${which} is a Uint16Array, but ${dtype === undefined ? 'no dtype is given' : `dtype is '${dtype}'`}; give dtype 'bf16' or 'fp16' for half-precision parameters`);
    if (half && kind !== 'Uint16Array')
      throw new TypeError(`${where}: ${which} must be a Uint16Array of ${dtype} bits (dtype '${dtype}'), got ${describe(v)}`);
  }
  if (half && (data as Uint16Array).length !== (grad as Uint16Array).length)
    throw new RangeError(`${where}: grad has length ${(grad as Uint16Array).length}, data has ${(data as Uint16Array).length}`);
  return (dtype as ParamDtype | undefined) ?? 'fp32';
}

/** bf16 or fp16 bits, widened to float32 exactly and narrowed to nearest even (lib/compact/convert.ts). */
export class HalfTensor {
  constructor(
    readonly storage: Storage.bf16 | Storage.f16,
    readonly bits: Uint16Array,
  ) {}

  get length(): number {
    return this.bits.length;
  }

  /** Elements [at, at + n) into out[0, n), exactly. */
  widen(at: number, n: number, out: Float32Array): void {
    const w = new Uint32Array(out.buffer, out.byteOffset, n);
    const h = this.bits;
    if (this.storage === Storage.bf16) for (let i = 0; i < n; i++) w[i] = bf16Widen(h[at + i]);
    else for (let i = 0; i < n; i++) w[i] = f16Widen(h[at + i]);
  }

  /** in[0, n) into elements [at, at + n), nearest even. */
  narrow(at: number, n: number, input: Float32Array): void {
    const w = new Uint32Array(input.buffer, input.byteOffset, n);
    const h = this.bits;
    if (this.storage === Storage.bf16) for (let i = 0; i < n; i++) h[at + i] = bf16Narrow(w[i]);
    else for (let i = 0; i < n; i++) h[at + i] = f16Narrow(w[i]);
  }

  /** in[0, n) into elements [at, at + n), by stochastic rounding with the tensor's key of this step. */
  narrowStochastic(at: number, n: number, input: Float32Array, key: number): void {
    const w = new Uint32Array(input.buffer, input.byteOffset, n);
    const h = this.bits;
    if (this.storage === Storage.bf16) for (let i = 0; i < n; i++) h[at + i] = bf16NarrowSr(w[i], srHash(key, at + i));
    else for (let i = 0; i < n; i++) h[at + i] = f16NarrowSr(w[i], srHash(key, at + i));
  }

  /** All elements widened to float32. */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.length);
    this.widen(0, this.length, out);
    return out;
  }
}

/** The seed and the step being taken: what stochastic rounding is keyed by (the optimizer sets `step`). */
export interface RoundingClock {
  seed: number;
  step: number;
}

/**
 * The param slot of a half-precision parameter as the compact backends take it: with a master,
 * the rule updates `master` (float32) and `half` gets its nearest-even copy; without, the rule
 * runs on `half` widened and the result goes back by stochastic rounding keyed by
 * (clock.seed, clock.step, index, element).
 */
export class HalfParamSlot {
  constructor(
    readonly half: HalfTensor,
    readonly master: Float32Array | null,
    readonly index: number,
    readonly clock: RoundingClock,
  ) {}

  get key(): number {
    return srKey(this.clock.seed, this.clock.step, this.index);
  }
}

/**
 * The fp32 master of each half-precision entry that lacks one, when its group keeps masters
 * (masterWeights): its data widened exactly.
 */
export function allocMasters(entries: ReadonlyArray<{ dtype: ParamDtype; data: unknown; state: Map<string, unknown> }>, masterWeights: boolean): void {
  if (!masterWeights) return;
  for (const e of entries)
    if (e.dtype !== 'fp32' && !e.state.has('master')) {
      // In allocFloat32 memory, as the other state: huge pages for large masters, freed by dispose().
      const half = new HalfTensor(halfStorage(e.dtype), e.data as Uint16Array);
      const master = allocFloat32(half.length);
      half.widen(0, half.length, master);
      e.state.set('master', master);
    }
}

/** Why an entry holds no master, for messages that refuse one. */
export const noMasterReason = (dtype: ParamDtype): string => (dtype === 'fp32' ? 'a float32 parameter' : "its group's masterWeights is false");
