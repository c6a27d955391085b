import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBitwise as definition } from '../lib/checkpoint/crc32c';
import { loadNative } from '../lib/backends/load';
import { NATIVE_LOADED } from './helpers';

const ROOT = path.join(__dirname, '..');
const native = loadNative().binding!;
const pattern = (n: number) => new Uint8Array(n).map((_, i) => (Math.imul(i, 2654435761) >>> 24) ^ i);

describe.skipIf(!NATIVE_LOADED)('the addon crc32c (CPU CRC instruction) against the bitwise definition', () => {
  it('gives the check values', () => {
    expect(native.crc32c(new Uint8Array(0), 0)).toBe(0);
    expect(native.crc32c(Buffer.from('123456789'), 0)).toBe(0xe3069283);
    expect(native.crc32c(new Uint8Array(32), 0)).toBe(0x8a9136aa); // RFC 3720 B.4: 32 zero bytes
    expect(native.crc32c(new Uint8Array(32).fill(0xff), 0)).toBe(0x62a8ab43);
  });

  it('agrees on 1 MiB of a pattern', () => {
    const data = pattern(1 << 20);
    expect(native.crc32c(data, 0)).toBe(definition(data));
  });

  it('agrees on every length 0..64 at every offset 0..7 (the 8-byte loop and its byte tail)', () => {
    const data = pattern(64 + 8);
    for (let offset = 0; offset < 8; offset++)
      for (let length = 0; length <= 64; length++) {
        const view = data.subarray(offset, offset + length);
        expect([offset, length, native.crc32c(view, 0)]).toEqual([offset, length, definition(view)]);
        expect(native.crc32c(view, 0x12345678)).toBe(definition(view, 0x12345678));
      }
  });

  it('continues across chunk boundaries to the one-pass value', () => {
    const data = pattern(4099);
    const whole = native.crc32c(data, 0);
    for (const cut of [0, 1, 7, 8, 9, 1000, 4091, 4098, 4099]) expect(native.crc32c(data.subarray(cut), native.crc32c(data.subarray(0, cut), 0))).toBe(whole);
    let crc = 0;
    for (let i = 0; i < data.length; i += 13) crc = native.crc32c(data.subarray(i, i + 13), crc);
    expect(crc).toBe(whole);
  });

  it('reads a view of a resizable buffer at its current length', () => {
    const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(64, { maxByteLength: 128 });
    const tracking = new Uint8Array(rab);
    tracking.set(pattern(64));
    const fixed = new Uint8Array(rab, 40, 16);
    rab.resize(20);
    expect(native.crc32c(tracking, 0)).toBe(definition(tracking));
    expect(fixed.length).toBe(0); // out of bounds now
    expect(native.crc32c(fixed, 0)).toBe(0);
  });

  it('refuses bad arguments with TypeError or RangeError, naming them', () => {
    const ok = new Uint8Array(4);
    const call = (...args: unknown[]) => () => (native.crc32c as (...a: unknown[]) => number)(...args);
    expect(call(ok)).toThrow(TypeError);
    expect(call(ok, 0, 0)).toThrow(/expected 2 arguments/);
    for (const bad of [new Float32Array(1), new Uint8ClampedArray(1), new DataView(new ArrayBuffer(1)), new ArrayBuffer(1), [1, 2], 'abc', null])
      expect(call(bad, 0)).toThrow(new TypeError('crc32c: bytes must be a Uint8Array'));
    expect(call(ok, '1')).toThrow(new TypeError('crc32c: crc must be a number'));
    expect(call(ok, 1n)).toThrow(TypeError);
    for (const bad of [-1, 2 ** 32, 0.5, NaN, Infinity]) expect(call(ok, bad)).toThrow(RangeError);
    expect(call(ok, -1)).toThrow(/crc must be an integer from 0 to 4294967295, got -1$/);
    expect(native.crc32c(ok, 2 ** 32 - 1)).toBe(definition(ok, 2 ** 32 - 1));
  });

  it('refuses a view of a detached buffer', () => {
    const buffer = new ArrayBuffer(16);
    const view = new Uint8Array(buffer, 4, 8);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => native.crc32c(view, 0)).toThrow(new TypeError('crc32c: bytes is a view of a detached ArrayBuffer'));
    const empty = new ArrayBuffer(0);
    const emptyView = new Uint8Array(empty);
    structuredClone(empty, { transfer: [empty] });
    expect(() => native.crc32c(emptyView, 0)).toThrow(/detached/);
  });
});

describe('lib/checkpoint crc32c', () => {
  const run = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      ['-e', `const { crc32c } = require('./dist/checkpoint/crc32c.js');
        const a = crc32c(Buffer.from('123456789')), b = crc32c(Buffer.from('6789'), crc32c(Buffer.from('12345')));
        console.log(JSON.stringify([a, b]));`],
      { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' },
    );

  it.skipIf(!NATIVE_LOADED)('uses the addon when it loads: no warning', () => {
    const r = run({});
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([0xe3069283, 0xe3069283]);
    expect(r.stderr).not.toMatch(/AdamNativeFallback/);
  });

  it('falls back to the bitwise definition with exactly one warning when the addon does not load', () => {
    const r = run({ ADAM_NATIVE_DISABLE: '1' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([0xe3069283, 0xe3069283]);
    expect(r.stderr.match(/AdamNativeFallback/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/disabled by ADAM_NATIVE_DISABLE=1; checkpoints compute CRC-32C in JavaScript/);
  });

  it('matches the definition on the loaded path', () => {
    const data = pattern(10_007);
    expect(crc32c(data)).toBe(definition(data));
    expect(crc32c(data.subarray(3001), crc32c(data.subarray(0, 3001)))).toBe(definition(data));
  });
});
