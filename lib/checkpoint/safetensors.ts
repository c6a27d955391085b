import { DTYPES, type Dtype, isDtype } from './dtypes';

/**
 * The safetensors layout: an 8-byte little-endian header length N, N bytes of JSON (padded with
 * spaces so the data starts 8-byte aligned), then every tensor's raw little-endian bytes back to
 * back. The JSON maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (relative to
 * the data start) and "__metadata__" to a flat object of strings.
 */

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte offsets in the data section, [begin, end). */
  begin: number;
  end: number;
}

export interface Layout {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Where the data section starts in the file (8 + N). */
  dataStart: number;
}

/** Headers above this are refused unread (the reference implementation's own limit). */
export const MAX_HEADER = 100_000_000;

/**
 * The header bytes (length prefix, JSON, padding) for tensors written in the given order, back to
 * back. Callers order wider dtypes first so every tensor stays aligned to its element size.
 */
export function encodeHeader(
  tensors: ReadonlyArray<{ name: string; dtype: Dtype; shape: number[] }>,
  metadata: Record<string, string>,
): { header: Buffer; layout: Layout } {
  const json: Record<string, unknown> = { __metadata__: metadata };
  const infos: TensorInfo[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPES[t.dtype].bytes;
    infos.push({ name: t.name, dtype: t.dtype, shape: t.shape, begin: offset, end: offset + bytes });
    Object.defineProperty(json, t.name, {
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] },
      enumerable: true,
    });
    offset += bytes;
  }
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const padded = Math.ceil((8 + text.length) / 8) * 8 - 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  text.copy(header, 8);
  return { header, layout: { tensors: infos, metadata, dataStart: 8 + padded } };
}

/**
 * Reads the header length from the first 8 bytes and checks it against the file size; returns N.
 * `problem` formats a message: every error names the file.
 */
export function headerLength(prefix: Buffer, fileSize: number, problem: (what: string) => Error): number {
  if (fileSize < 8) throw problem(`is ${fileSize} bytes, too short for a safetensors header`);
  const n = prefix.readBigUInt64LE(0);
  if (n > BigInt(Math.min(MAX_HEADER, fileSize - 8)))
    throw problem(`declares a ${n}-byte header, but ${n > BigInt(MAX_HEADER) ? `headers are limited to ${MAX_HEADER} bytes` : `the file has ${fileSize - 8} bytes after the length`}`);
  return Number(n);
}

/**
 * Parses and checks the JSON header: each tensor's dtype, shape and offsets (in bounds, consistent
 * with dtype and shape, in order, no overlap and no gap, ending at the end of the file), and a
 * metadata object of strings. Tensors come back in data order.
 */
export function decodeHeader(json: Buffer, dataStart: number, fileSize: number, problem: (what: string) => Error): Layout {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw problem(`has a header that is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw problem('has a header that is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  const dataSize = fileSize - dataStart;
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw problem('has a __metadata__ that is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw problem(`has __metadata__["${k}"] that is not a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true });
      }
      continue;
    }
    const bad = (what: string) => problem(`tensor "${name}": ${what}`);
    if (typeof value !== 'object' || value === null) throw bad('its entry is not an object');
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isDtype(dtype)) throw bad(`dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(DTYPES).join(', ')}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape is not a list of non-negative integers');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw bad('data_offsets is not a pair of non-negative integers');
    const [begin, end] = offsets as number[];
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataSize) throw bad(`data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`);
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (elements * DTYPES[dtype].bytes !== end - begin)
      throw bad(`shape [${shape.join(', ')}] of ${dtype} needs ${elements * DTYPES[dtype].bytes} bytes, data_offsets span ${end - begin}`);
    tensors.push({ name, dtype, shape: shape as number[], begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of tensors) {
    if (t.begin < at) throw problem(`tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (which ends at ${at})`);
    if (t.begin > at) throw problem(`tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] leave a gap after byte ${at}`);
    at = t.end;
  }
  if (at !== dataSize) throw problem(`has ${dataSize - at} bytes after the last tensor`);
  return { tensors, metadata, dataStart };
}
