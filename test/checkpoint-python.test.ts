import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { bf16Widen, f16Narrow, f16Widen } from '../lib/compact/convert';
import { fillGrads, makeParams } from './cases';

// The reference implementation of the format (Python's safetensors, over numpy) reads a checkpoint
// of this library, and writes one this library loads. Skipped where python3 lacks safetensors.
const python = (code: string, ...args: string[]) => spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
const reason = (() => {
  const r = python('import safetensors.numpy, numpy');
  return r.error ? 'no python3' : r.status !== 0 ? 'python3 has no safetensors (or numpy)' : null;
})();

const DIR = mkdtempSync(join(tmpdir(), 'adam-py-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

// Reads the file with safetensors, prints what it saw, and writes a copy whose exp_avg are doubled
// (exact in float32), with the CRC-32C of every tensor recomputed here from its definition.
const SCRIPT = `
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file
src, dst = sys.argv[1], sys.argv[2]
with safe_open(src, framework="numpy") as f:
    meta = f.metadata()
    tensors = {k: f.get_tensor(k) for k in f.keys()}
def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF
print(json.dumps({"meta": meta, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "hex": v.tobytes().hex()} for k, v in tensors.items()}}))
out = {k: (v * np.float32(2) if k.endswith(".exp_avg") else v) for k, v in tensors.items()}
meta["crc32c"] = json.dumps({k: format(crc32c(v.tobytes()), "08x") for k, v in out.items()})
save_file(out, dst, metadata=meta)
`;

describe.skipIf(reason !== null)(`Python's safetensors and this library read each other's files${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('reads ours with the same names, dtypes, shapes and bytes; we load what it writes', () => {
    const params = makeParams([5, 3], 9);
    params.forEach((p, i) => (p.name = String(i)));
    const opt = new Adam(params, { lr: 0.002, amsgrad: true });
    for (let t = 1; t <= 2; t++) fillGrads(params, 9, t), opt.step();
    const ours = join(DIR, 'node.safetensors');
    const theirs = join(DIR, 'python.safetensors');
    opt.saveSync(ours, { params: true });
    const r = python(SCRIPT, ours, theirs);
    expect(r.stderr).toBe('');
    const seen = JSON.parse(r.stdout);
    const sd = opt.stateDict();
    const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
    expect(seen.meta.optimizer).toBe('Adam');
    expect(seen.meta.step).toBe('2');
    for (const p of params) {
      for (const slot of ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'])
        expect(seen.tensors[`state.${p.name}.${slot}`]).toEqual({ dtype: 'float32', shape: [p.data.length], hex: hex(sd.state[p.name!][slot]) });
      expect(seen.tensors[`param.${p.name}`].hex).toBe(hex(p.data));
    }
    const other = new Adam(makeParams([5, 3], 10).map((p, i) => ({ ...p, name: String(i) })), { lr: 0.002, amsgrad: true });
    other.loadSync(theirs);
    const back = other.stateDict();
    for (const p of params) {
      expect(hex(back.state[p.name!].exp_avg)).toBe(hex(sd.state[p.name!].exp_avg.map((x) => x * 2)));
      expect(hex(back.state[p.name!].exp_avg_sq)).toBe(hex(sd.state[p.name!].exp_avg_sq));
      expect(hex(other.paramGroups[0].params[Number(p.name)].data as Float32Array)).toBe(hex(p.data));
    }
    expect(other.stepCount).toBe(2);
  });

  // numpy has no bfloat16: the raw bytes come from safetensors.deserialize, widened here to float32
  // by the format's definition (the top 16 bits of a float32); F16 through numpy's float16.
  const COMPACT = `
import json, sys
import numpy as np
from safetensors import deserialize, safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = f.metadata()
    keys = sorted(f.keys())
    numpy_reads = {k: str(f.get_tensor(k).dtype) for k in keys if f.get_slice(k).get_dtype() != "BF16"}
out = {}
for name, t in deserialize(open(sys.argv[1], "rb").read()):
    raw = bytes(t["data"])
    if t["dtype"] == "BF16":
        wide = (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4")
    elif t["dtype"] == "F16":
        wide = np.frombuffer(raw, dtype="<f2").astype("<f4")
    elif t["dtype"] == "F32":
        wide = np.frombuffer(raw, dtype="<f4")
    else:
        wide = np.frombuffer(raw, dtype="u1")
    out[name] = {"dtype": t["dtype"], "shape": t["shape"], "hex": wide.tobytes().hex()}
print(json.dumps({"meta": meta, "numpy": numpy_reads, "tensors": out}))
`;

  it('reads a compact checkpoint: BF16 moments, U8 codes with F32 absmax, F32 masters, F16 params', () => {
    const wide = makeParams([5000, 40], 3);
    const params = wide.map((p) => ({ name: p.name, data: Uint16Array.from(new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length), (b) => f16Narrow(b)), grad: new Uint16Array(p.data.length), dtype: 'fp16' as const }));
    const opt = new Adam([{ params: [params[0]], stateDtype: 'int8' }, { params: [params[1]], stateDtype: 'bf16' }], { lr: 0.002 });
    for (let t = 1; t <= 3; t++) {
      fillGrads(wide, 4, t);
      wide.forEach((p, i) => params[i].grad.set(Uint16Array.from(new Uint32Array(p.grad.buffer, p.grad.byteOffset, p.grad.length), (b) => f16Narrow(b))));
      opt.step();
    }
    const file = join(DIR, 'compact.safetensors');
    opt.saveSync(file, { params: true });
    const r = python(COMPACT, file);
    expect(r.stderr).toBe('');
    const seen = JSON.parse(r.stdout);
    const sd = opt.stateDict();
    const hex = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
    const widened = (bits: Uint16Array, f: (h: number) => number) => hex(new Float32Array(Uint32Array.from(bits, f).buffer));
    expect(seen.meta.step).toBe('3');
    expect(seen.numpy).toMatchObject({ 'state.p0.exp_avg': 'uint8', 'state.p0.exp_avg_absmax': 'float32', 'param.p0': 'float16', 'state.p1.master': 'float32' });
    const p0 = sd.state.p0, p1 = sd.state.p1;
    expect(seen.tensors['state.p0.exp_avg']).toEqual({ dtype: 'U8', shape: [5000], hex: hex(p0.exp_avg as Uint8Array) });
    expect(seen.tensors['state.p0.exp_avg_sq']).toEqual({ dtype: 'U8', shape: [5000], hex: hex(p0.exp_avg_sq as Uint8Array) });
    expect(seen.tensors['state.p0.exp_avg_absmax']).toEqual({ dtype: 'F32', shape: [20], hex: hex(p0.exp_avg_absmax as Float32Array) });
    expect(seen.tensors['state.p0.master']).toEqual({ dtype: 'F32', shape: [5000], hex: hex(p0.master as Float32Array) });
    expect(seen.tensors['state.p1.exp_avg']).toEqual({ dtype: 'BF16', shape: [40], hex: widened(p1.exp_avg as Uint16Array, bf16Widen) });
    expect(seen.tensors['state.p1.exp_avg_sq']).toEqual({ dtype: 'BF16', shape: [40], hex: widened(p1.exp_avg_sq as Uint16Array, bf16Widen) });
    params.forEach((p) => expect(seen.tensors[`param.${p.name}`]).toEqual({ dtype: 'F16', shape: [p.data.length], hex: widened(p.data, f16Widen) }));
  });
});
