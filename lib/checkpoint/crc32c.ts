import { loadNative } from '../backends/load';

type Crc = (bytes: Uint8Array, crc: number) => number;

/**
 * CRC-32C (Castagnoli) of `bytes`, continuing from `previous` (0 to start): chunks fed in order
 * give the CRC of their concatenation. The native addon computes it with the CPU's CRC
 * instruction where there is one (bench/checkpoint.mjs measures it); where the addon does not
 * load, the bitwise definition below stands in (same values, far slower) with one warning, as the
 * library falls back to its TypeScript backend.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  return (impl ??= load())(bytes, previous >>> 0) >>> 0;
}

let impl: Crc | undefined;

function load(): Crc {
  const { binding, error } = loadNative();
  if (binding && typeof binding.crc32c === 'function') return binding.crc32c.bind(binding);
  const why = binding ? 'the native addon has no crc32c (rebuild the addon)' : error;
  process.emitWarning(`${why}; checkpoints compute CRC-32C in JavaScript, slowly`, 'AdamNativeFallback');
  return crc32cBitwise;
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
