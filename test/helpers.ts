import { describe, it } from 'vitest';
import { backendInfo } from '../lib';

/** Deterministic uniform [0, 1) generator, so every run sees the same data (the demo's). */
export { seededRandom as rng } from '../examples/random';

/** Normal-ish values with a spread of magnitudes (tests exercise small and large v alike). */
export function fillRandom(a: Float32Array, next: () => number, scale = 1): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const u = next() + next() + next() - 1.5;
    a[i] = u * scale * Math.pow(10, Math.floor(next() * 4) - 2);
  }
  return a;
}

/** Index of the first element whose bits differ, or -1. Compares bit patterns, not values. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

export const LENGTHS = [0, 1, 3, 15, 16, 17, 31, 33, 1000, 4099];

const info = backendInfo();
/** Every native ISA this CPU runs; empty when the addon did not load. */
export const NATIVE_ISAS = info.native.loaded ? info.supportedIsas : [];
export const NATIVE_LOADED = info.native.loaded;

/** A reason a test may be skipped: [whether it applies here, why]. */
export type SkipReason = readonly [boolean, string];
export const NO_NATIVE: SkipReason = [!NATIVE_LOADED, 'no native addon'];

/** The title, with the first applying reason appended only when the test is really skipped. */
function titled(title: string, reasons: readonly SkipReason[]): { skip: boolean; title: string } {
  const why = reasons.find(([applies]) => applies)?.[1];
  return { skip: why !== undefined, title: why === undefined ? title : `${title} (skipped: ${why})` };
}

/** `it`, skipped (saying why in its title) when any of the reasons applies. */
export function itUnless(...reasons: SkipReason[]) {
  return (title: string, fn: () => unknown, timeout?: number) => {
    const t = titled(title, reasons);
    it.skipIf(t.skip)(t.title, fn, timeout);
  };
}

/** `describe`, skipped (saying why in its title) when any of the reasons applies. */
export function describeUnless(...reasons: SkipReason[]) {
  return (title: string, fn: () => void) => {
    const t = titled(title, reasons);
    describe.skipIf(t.skip)(t.title, fn);
  };
}
