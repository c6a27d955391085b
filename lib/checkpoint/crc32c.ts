type Crc = (input: Buffer, initialState?: number) => number;

/**
 * CRC-32C (Castagnoli) of `bytes`, continuing from `previous` (0 to start): chunks fed in order
 * give the CRC of their concatenation. @node-rs/crc32 uses the CPU's CRC32 instruction where
 * there is one (bench/checkpoint.mjs measures it); it is loaded on first use, and where its
 * prebuilt binary does not load, the bitwise definition below stands in (same values, ~100x
 * slower) with one warning, as the library falls back to its TypeScript backend.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (impl ??= load())(view, previous) >>> 0;
}

let impl: Crc | undefined;

function load(): Crc {
  try {
    return (require('@node-rs/crc32') as { crc32c: Crc }).crc32c;
  } catch (e) {
    process.emitWarning(`@node-rs/crc32 did not load (${(e as Error).message.split('\n')[0]}); checkpoints compute CRC-32C in JavaScript, slowly`, 'AdamNativeFallback');
    return crc32cBitwise;
  }
}

/** The bitwise definition (reflected polynomial 0x82F63B78), no table. */
export function crc32cBitwise(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** The CRC as the file writes it: 8 lowercase hex digits. */
export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
