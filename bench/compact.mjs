// Compact state (lib/compact): Adam with bf16 or int8 moments against fp32 Adam and the stream
// probe, each case timed in turn with the others so all see the same noise. Bytes per element:
// what a step moves (param read+write 8, grad 4, each moment read+write 2x its width; int8 adds a
// float32 absmax per 256 elements read+written) and what the optimizer keeps per parameter
// (param, grad and the moments). bf16 params: data and grad 2 bytes each; with a master the step
// reads the master and grad and writes master and data (data is not read); without, data is read
// and written back by stochastic rounding.
import { Adam, allocFloat32 } from '../dist/index.mjs';
import { makeParams, makeProbeArrays } from './layouts.mjs';
import { collect, fillGrad, ratioSpread, roundsOfEach, spread } from './measure.mjs';
import { PROBE_BYTES, makeProbe } from './probe.mjs';

const ABSMAX = 8 / 256; // one float32 per block, read and written
const SETTINGS = [
  { label: 'fp32 params, fp32 state', options: {}, moved: 28, kept: 16 },
  { label: 'fp32 params, bf16 state', options: { stateDtype: 'bf16' }, moved: 20, kept: 12 },
  { label: 'fp32 params, int8 state', options: { stateDtype: 'int8' }, moved: 16 + 2 * ABSMAX, kept: 10 + 8 / 256 },
  { label: 'bf16 params + master, int8 state', options: { stateDtype: 'int8' }, bf16: true, moved: 16 + 2 * ABSMAX, kept: 10 + 8 / 256 },
  { label: 'bf16 params, no master, int8 state', options: { stateDtype: 'int8', masterWeights: false }, bf16: true, moved: 10 + 2 * ABSMAX, kept: 6 + 8 / 256 },
];

// One bf16 tensor of n elements, in allocFloat32 memory as the fp32 settings' params (huge pages):
// data 1, grad the fp32 settings' values (fillGrad) truncated to bf16, so the 8-bit blocks see
// varied values, as from real gradients, not one value repeated.
function makeBf16Params(n) {
  const halves = (k) => {
    const words = allocFloat32(Math.ceil(k / 2));
    return new Uint16Array(words.buffer, words.byteOffset, k);
  };
  const bits = new Uint32Array(fillGrad(new Float32Array(n)).buffer);
  const grad = halves(n);
  for (let i = 0; i < n; i++) grad[i] = bits[i] >>> 16;
  return [{ data: halves(n).fill(0x3f80), grad, dtype: 'bf16' }];
}
const SIZES = [
  { label: '1M', length: 2 ** 20 },
  { label: '16M', length: 2 ** 24 },
  { label: '64M', length: 2 ** 26 },
];

export function measureCompact({ quick, threads, reps }) {
  const rows = [];
  for (const size of quick ? SIZES.slice(0, 2) : SIZES) {
    const n = size.length;
    const probeArrays = makeProbeArrays(n, 'native');
    const steps = SETTINGS.map((s) => {
      const params = s.bf16 ? makeBf16Params(n) : makeParams({ tensors: 1, length: n }, 'native');
      return threads.map((t) => {
        const opt = new Adam(params, { backend: 'native', threads: t, ...s.options });
        return () => opt.step();
      });
    });
    threads.forEach((t, ti) => {
      // Median rounds; the speed-up is the median of per-round ratios to fp32 Adam (same rounds).
      // Three warm-up rounds: a new optimizer's first steps at 64M ran 2-5x their settled time.
      const [probe, ...times] = roundsOfEach([makeProbe(probeArrays, t), ...steps.map((s) => s[ti])], { ...reps, warmup: 3 });
      SETTINGS.forEach((s, k) =>
        rows.push({
          size: size.label, elements: n, threads: t, setting: s.label, kept: s.kept, moved: s.moved,
          seconds: spread(times[k]).median, probeSeconds: spread(probe).median, vsFp32: ratioSpread(times[0], times[k]),
        }),
      );
    });
    collect();
  }
  return rows;
}

export function printCompact(rows) {
  console.log('\nCompact state: Adam, one tensor, native (best ISA); speed-up over fp32 Adam in the same rounds (median [slowest-fastest round])');
  console.log('| size | threads | setting | kept B/param | moved B/elem | Gelem/s | GB/s | of probe | vs fp32 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const gbs = (r.elements * r.moved) / r.seconds / 1e9;
    const probeGbs = (r.elements * PROBE_BYTES) / r.probeSeconds / 1e9;
    console.log(
      `| ${r.size} | ${r.threads} | ${r.setting} | ${r.kept.toFixed(2)} | ${r.moved.toFixed(2)} | ${(r.elements / r.seconds / 1e9).toFixed(3)} | ` +
        `${gbs.toFixed(1)} | ${((100 * gbs) / probeGbs).toFixed(0)}% | ${r.vsFp32.median.toFixed(2)}x [${r.vsFp32.min.toFixed(2)}-${r.vsFp32.max.toFixed(2)}] |`,
    );
  }
}
