import { describe, expect, it } from 'vitest';
import { SIGNED_MAP, UNSIGNED_MAP, q8Code } from '../lib/compact/quant8';
import { loadNative } from '../lib/backends/load';
import { NATIVE_ISAS } from './helpers';

// The native loops find a code without the division deciding it where it cannot (AVX-512:
// arithmetic on |x/absmax| trusted only away from the midpoints). Here every block has a
// different absmax (powers of two, where x/absmax is exact, and others, where it rounds either
// way) and holds, for each midpoint m of the map, the float32s around m*absmax (both signs), so
// x/absmax lands at, just below and just above every midpoint, and around every power of two. Codes must equal the TypeScript
// reference, q8Code of the float32 quotient, on every ISA and thread count.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => ((f32[0] = x), u32[0]);
const fromBits = (b: number): number => ((u32[0] = b >>> 0), f32[0]);

// Deterministic absmax values over many binades, with all kinds of mantissas.
function scales(): number[] {
  const out = [1, 0.5, 2 ** -20, 3, 0.1, 1 / 3, 1e-30, 7e25, Math.fround(1 + 2 ** -23), Math.fround(2 - 2 ** -22)];
  let s = 12345;
  for (let i = 0; out.length < 40; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const exp = ((s >>> 8) % 60) - 30;
    out.push(Math.fround((1 + (s & 0xffff) / 65536) * 2 ** exp));
  }
  return out;
}

// Blocks of 256: element 0 is +-absmax (the block's absmax), then the neighbours of m*absmax.
function build(map: typeof SIGNED_MAP): { g: Float32Array; blocks: number } {
  const out: number[] = [];
  const scaleList = scales();
  scaleList.forEach((absmax, si) => {
    const body: number[] = [];
    for (let k = 0; k < map.mids.length; k++) {
      const m = map.mids[k];
      // The float32 nearest m*absmax (in float64, exact here), and up to two float32s either side.
      const c = Math.fround(m * absmax);
      const cb = bitsOf(c);
      for (const d of [-2, -1, 0, 1, 2]) {
        const x = c === 0 ? fromBits(Math.max(0, d)) : fromBits(cb + (c > 0 ? d : -d));
        if (Math.abs(x) <= absmax && Number.isFinite(x)) body.push(x, -x);
      }
    }
    // The float32s around absmax*2^-k: the octave edges where the SIMD loops' tables change,
    // down past 2^-31 (below which they take one octave's entry).
    for (let k = 0; k <= 44; k++) {
      const cb = bitsOf(absmax * 2 ** -k);
      for (const d of [-1, 0, 1]) {
        const x = fromBits(cb + d);
        if (x > 0 && x <= absmax) body.push(x, -x);
      }
    }
    for (let i = 0; i < body.length; i += 255) {
      const block = [si % 2 ? -absmax : absmax, ...body.slice(i, i + 255)];
      while (block.length < 256) block.push(0);
      out.push(...block);
    }
  });
  return { g: Float32Array.from(out), blocks: out.length / 256 };
}

describe('8-bit codes near every midpoint, for many absmax values, on every ISA and thread count', () => {
  for (const [map, storage] of [[SIGNED_MAP, 3], [UNSIGNED_MAP, 4]] as const) {
    const { g, blocks } = build(map);
    const want = new Uint8Array(g.length);
    const absmaxWant = new Float32Array(blocks);
    for (let b = 0; b < blocks; b++) {
      let a = 0;
      for (let i = 0; i < 256; i++) a = Math.max(a, Math.abs(g[256 * b + i]));
      absmaxWant[b] = a;
      for (let i = 0; i < 256; i++) want[256 * b + i] = q8Code(map, Math.fround(g[256 * b + i] / a));
    }
    const cases = NATIVE_ISAS.flatMap((isa) => [[isa, 1], [isa, 2]] as const);
    it.each(cases)(`native/%s, %i threads, ${storage === 3 ? 'signed' : 'unsigned'} map`, (isa, threads) => {
      const b = loadNative().binding!;
      const codes = new Uint8Array(g.length), absmax = new Float32Array(blocks);
      // SGD's first momentum step stores buf = g: with int8 momentum, the codes of g / absmax.
      const plan = new b.CompactPlan(b.rules.sgd.id, [new Float32Array(g.length), g, codes], Uint8Array.of(0, 0, storage), [null, null, absmax], undefined, b.isas.indexOf(isa), threads);
      plan.step(Float32Array.of(0, 0.9, 1, 0, 1), Uint32Array.of(b.flags.momentum | b.flags.firstStep));
      for (let k = 0; k < blocks; k++) if (absmax[k] !== absmaxWant[k]) expect.fail(`block ${k}: absmax ${absmax[k]}, not ${absmaxWant[k]}`);
      let bad = 0;
      const first: string[] = [];
      for (let i = 0; i < g.length; i++)
        if (codes[i] !== want[i] && bad++ < 5) first.push(`element ${i} (x ${g[i]}, absmax ${absmax[i >> 8]}): code ${codes[i]}, not ${want[i]}`);
      expect(first, `${bad} codes differ`).toEqual([]);
    });
  }

  it('the cases reach both sides of every midpoint', () => {
    // Each midpoint has a quotient at or below it and one above it in some block.
    for (const map of [SIGNED_MAP, UNSIGNED_MAP]) {
      const { g } = build(map);
      const below = new Uint8Array(255), above = new Uint8Array(255);
      for (let blk = 0; blk < g.length / 256; blk++) {
        let a = 0;
        for (let i = 0; i < 256; i++) a = Math.max(a, Math.abs(g[256 * blk + i]));
        for (let i = 0; i < 256; i++) {
          const c = q8Code(map, Math.fround(g[256 * blk + i] / a));
          if (c < 255) below[c] = 1; // the quotient is at or below midpoint c
          if (c > 0) above[c - 1] = 1; // and above midpoint c - 1
        }
      }
      expect(below.every((x) => x === 1) && above.every((x) => x === 1)).toBe(true);
    }
  });
});
