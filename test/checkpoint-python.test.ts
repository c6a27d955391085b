import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam } from '../lib';
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
});
