/**
 * The one table between safetensors dtypes and the typed arrays that hold them: F32 state, masters
 * and parameters; BF16 moments and parameters; U8 8-bit codes (with an F32 absmax per block); F16
 * parameters. BF16 and F16 share Uint16Array: dtypeOf gives BF16, a parameter's dtype says which.
 */
export const DTYPES = {
  F32: { bytes: 4, array: Float32Array },
  BF16: { bytes: 2, array: Uint16Array },
  F16: { bytes: 2, array: Uint16Array },
  U8: { bytes: 1, array: Uint8Array },
} as const;

/** A parameter's safetensors dtype. */
export const PARAM_DTYPE = { fp32: 'F32', bf16: 'BF16', fp16: 'F16' } as const;

export type Dtype = keyof typeof DTYPES;
export type HostArray = InstanceType<(typeof DTYPES)[Dtype]['array']>;

export function isDtype(v: unknown): v is Dtype {
  return typeof v === 'string' && Object.hasOwn(DTYPES, v);
}

/** The dtype of a host state array (a Uint16Array is BF16), or null for an array type no checkpoint stores. */
export function dtypeOf(a: ArrayBufferView): Dtype | null {
  for (const [name, { array }] of Object.entries(DTYPES)) if (a instanceof array) return name as Dtype;
  return null;
}

/**
 * The bytes of a typed array as views of at most `chunk` bytes each (no copy): one view of a
 * tensor over 4 GiB could not exist (typed arrays stop at 2^32 elements).
 */
export function* byteChunks(a: ArrayBufferView, chunk: number): Generator<Uint8Array> {
  for (let at = 0; at < a.byteLength; at += chunk) yield new Uint8Array(a.buffer, a.byteOffset + at, Math.min(chunk, a.byteLength - at));
}
