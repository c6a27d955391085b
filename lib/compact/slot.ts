import { allocFloat32 } from '../memory';
import { bf16Narrow, bf16Widen } from './convert';
import { type Quant8Map, SIGNED_MAP, UNSIGNED_MAP, q8Narrow, q8Widen } from './quant8';

/** How optimizer state is stored: float32, bfloat16, or 8-bit block-wise codes. */
export type StateDtype = 'fp32' | 'bf16' | 'int8';
export const STATE_DTYPES: readonly StateDtype[] = ['fp32', 'bf16', 'int8'];

/** Storage ids, as native/kernels/kernel_api.h Storage. */
export const enum Storage {
  f32 = 0,
  bf16 = 1,
  f16 = 2,
  q8Signed = 3,
  q8Unsigned = 4,
}

/** Elements per 8-bit block (kCompactBlock), and the smallest tensor kept in 8 bits (bitsandbytes' min_8bit_size). */
export const BLOCK = 256;
export const MIN_8BIT_SIZE = 4096;

/** Slots that are never negative: the unsigned 8-bit map covers them with twice the resolution. */
const NON_NEGATIVE = new Set(['exp_avg_sq', 'max_exp_avg_sq', 'exp_inf', 'sum', 'square_avg', 'acc_delta']);

/** The 8-bit storage of a slot: the unsigned map for slots that are never negative. */
export const q8StorageOf = (slot: string): Storage.q8Signed | Storage.q8Unsigned => (NON_NEGATIVE.has(slot) ? Storage.q8Unsigned : Storage.q8Signed);

/** The storage a state slot of a tensor of `length` elements gets under `dtype`. */
export function storageFor(slot: string, dtype: StateDtype, length: number): Storage {
  if (dtype === 'bf16') return Storage.bf16;
  if (dtype === 'int8' && length >= MIN_8BIT_SIZE) return q8StorageOf(slot);
  return Storage.f32;
}

export const mapOf = (storage: Storage): Quant8Map => (storage === Storage.q8Signed ? SIGNED_MAP : UNSIGNED_MAP);

/** A state slot kept narrower than float32: bf16 bits, or 8-bit codes with a float32 absmax per block. */
export class CompactSlot {
  readonly storage: Storage.bf16 | Storage.q8Signed | Storage.q8Unsigned;
  readonly codes: Uint16Array | Uint8Array;
  readonly absmax: Float32Array | null;
  /** The allocFloat32 block `codes` views (lib/state.ts freeState releases it). */
  readonly memory: Float32Array;

  constructor(storage: Storage.bf16 | Storage.q8Signed | Storage.q8Unsigned, length: number) {
    this.storage = storage;
    // allocFloat32's memory, as the float32 state arenas: aligned, huge pages for large slots, and
    // freed by dispose(). On plain 4 KiB pages, faulted in by the first steps, a 64M-element bf16
    // or int8 step took 2-20x its settled time for its first few steps.
    const words = allocFloat32(Math.ceil((storage === Storage.bf16 ? 2 * length : length) / 4));
    this.memory = words;
    this.codes =
      storage === Storage.bf16
        ? new Uint16Array(words.buffer, words.byteOffset, length)
        : new Uint8Array(words.buffer, words.byteOffset, length).fill(mapOf(storage).zero);
    this.absmax = storage === Storage.bf16 ? null : new Float32Array(Math.ceil(length / BLOCK));
  }

  get length(): number {
    return this.codes.length;
  }

  get dtype(): 'bf16' | 'int8' {
    return this.storage === Storage.bf16 ? 'bf16' : 'int8';
  }

  get bytes(): number {
    return this.codes.byteLength + (this.absmax?.byteLength ?? 0);
  }

  /** Widens elements [at, at + n) into out[0, n). */
  widen(at: number, n: number, out: Float32Array): void {
    if (this.storage === Storage.bf16) {
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      const h = this.codes;
      for (let i = 0; i < n; i++) bits[i] = bf16Widen(h[at + i]);
    } else {
      q8Widen(mapOf(this.storage), (this.codes as Uint8Array).subarray(at, at + n), this.absmax![at / BLOCK], out, n);
    }
  }

  /** Narrows in[0, n) into elements [at, at + n) (`at` a multiple of BLOCK for 8-bit codes). */
  narrow(at: number, n: number, input: Float32Array): void {
    if (this.storage === Storage.bf16) {
      const bits = new Uint32Array(input.buffer, input.byteOffset, n);
      const h = this.codes;
      for (let i = 0; i < n; i++) h[at + i] = bf16Narrow(bits[i]);
    } else {
      this.absmax![at / BLOCK] = q8Narrow(mapOf(this.storage), input.subarray(0, n), (this.codes as Uint8Array).subarray(at, at + n), n);
    }
  }

  /** The whole slot widened to float32. */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.length);
    const scratch = new Float32Array(BLOCK);
    for (let at = 0; at < this.length; at += BLOCK) {
      const n = Math.min(BLOCK, this.length - at);
      this.widen(at, n, scratch);
      out.set(scratch.subarray(0, n), at);
    }
    return out;
  }

  /** Stores float32 values (narrowed block by block as a step would). */
  fromFloat32(values: Float32Array): void {
    const scratch = new Float32Array(BLOCK);
    for (let at = 0; at < this.length; at += BLOCK) {
      const n = Math.min(BLOCK, this.length - at);
      scratch.set(values.subarray(at, at + n));
      this.narrow(at, n, scratch);
    }
  }

  /** Fills every element with one value. */
  fill(value: number): void {
    this.fromFloat32(new Float32Array(this.length).fill(value));
  }
}
