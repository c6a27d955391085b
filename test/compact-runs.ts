import { type AnyParam, type DeviceTensor, cuda } from '../lib';
import { bf16Narrow, f16Narrow } from '../lib/compact/convert';
import { type OptimizerCase, fillGrads, makeParams } from './cases';

/** One compact setting: how the parameters and the moment slots are stored. */
export interface CompactSetting {
  dtype: 'fp32' | 'bf16' | 'fp16';
  masterWeights?: boolean;
  stateDtype: 'fp32' | 'bf16' | 'int8';
}

/** Every compact combination of issue 12: fp32 params with compact state, half params with or without master, every stateDtype. */
export const COMPACT_SETTINGS: CompactSetting[] = [
  { dtype: 'fp32', stateDtype: 'bf16' },
  { dtype: 'fp32', stateDtype: 'int8' },
  ...(['bf16', 'fp16'] as const).flatMap((dtype) =>
    [true, false].flatMap((masterWeights) => (['fp32', 'bf16', 'int8'] as const).map((stateDtype) => ({ dtype, masterWeights, stateDtype }))),
  ),
];

export const settingLabel = (s: CompactSetting): string =>
  `${s.dtype} params${s.masterWeights === undefined ? '' : s.masterWeights ? ' + master' : ', stochastic rounding'}, ${s.stateDtype} state`;

const toBits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** x narrowed to bf16/fp16 bits (nearest even), into `out`. */
export function narrowAll(dtype: 'bf16' | 'fp16', x: Float32Array, out = new Uint16Array(x.length)): Uint16Array {
  const narrow = dtype === 'bf16' ? bf16Narrow : f16Narrow;
  const bits = toBits(x);
  for (let i = 0; i < x.length; i++) out[i] = narrow(bits[i]);
  return out;
}

/** Every parameter's and state slot's bytes by name ("param p0", "p0.exp_avg", ...). */
export type RunBytes = Map<string, Buffer>;

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * `steps` steps of an optimizer case under a compact setting; every third is a stepAsync.
 * `device`: fp32 params as DeviceTensors (needs a GPU).
 */
export async function compactRun(c: OptimizerCase, s: CompactSetting, lengths: number[], backend: Record<string, unknown>, steps = 12, device = false, seed = 7): Promise<RunBytes> {
  const host = makeParams(lengths, seed);
  const half = s.dtype === 'fp32' ? null : host.map((p) => ({ name: p.name, data: narrowAll(s.dtype as 'bf16', p.data), grad: new Uint16Array(p.grad.length), dtype: s.dtype }));
  const dev = device && !half ? host.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.tensor(p.grad.length) })) : null;
  const params = (half ?? dev ?? host) as AnyParam[];
  const extra = { ...backend, stateDtype: s.stateDtype, seed: 11, ...(s.masterWeights === undefined ? {} : { masterWeights: s.masterWeights }) };
  const opt = c.make(params, { ...c.options, ...extra });
  for (let t = 1; t <= steps; t++) {
    fillGrads(host, seed, t);
    half?.forEach((p, i) => narrowAll(s.dtype as 'bf16', host[i].grad, p.grad));
    dev?.forEach((p, i) => p.grad.copyFrom(host[i].grad));
    if (t % 3 === 0) await opt.stepAsync();
    else opt.step();
  }
  const out: RunBytes = new Map();
  params.forEach((p, i) => {
    const data = p.data as Float32Array | Uint16Array | DeviceTensor;
    out.set(`param ${host[i].name}`, bytesOf('download' in data ? data.download() : data));
  });
  for (const [name, slots] of Object.entries(opt.stateDict().state))
    for (const [slot, a] of Object.entries(slots as Record<string, ArrayBufferView>)) out.set(`${name}.${slot}`, bytesOf(a));
  opt.dispose();
  dev?.forEach((p) => (p.data.free(), p.grad.free()));
  return out;
}

/** The first array whose bytes differ (with the first differing byte), or null when all are equal. */
export function firstDifference(a: RunBytes, b: RunBytes): string | null {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  for (const k of keys) {
    const x = a.get(k), y = b.get(k);
    if (!x || !y) return `${k}: only in ${x ? 'the first' : 'the second'} run`;
    if (x.length !== y.length) return `${k}: ${x.length} bytes vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${k}: byte ${i}`;
  }
  return null;
}
