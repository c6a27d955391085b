/**
 * The one table between safetensors dtypes and the typed arrays that hold them. The state of every
 * optimizer is F32 today; narrower storage (BF16 moments, U8 codes with F32 absmax) adds rows here.
 */
export const DTYPES = {
  F32: { bytes: 4, array: Float32Array },
  BF16: { bytes: 2, array: Uint16Array },
  U8: { bytes: 1, array: Uint8Array },
} as const;

export type Dtype = keyof typeof DTYPES;
export type HostArray = InstanceType<(typeof DTYPES)[Dtype]['array']>;

export function isDtype(v: unknown): v is Dtype {
  return typeof v === 'string' && Object.hasOwn(DTYPES, v);
}

/** The dtype of a host array, or null for an array type no checkpoint stores. */
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
