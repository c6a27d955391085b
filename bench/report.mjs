// The printed tables. Rates: elements per second; GB/s: the bytes the optimizer must move per
// element (bytesPerElement) times elements per second; roof: the stream probe's GB/s (28 bytes per
// element) on the same element count and threads, measured in the same run. Native times are
// medians of rounds; "of roof" is the median of the per-round ratios, the slowest and fastest round
// in brackets.
import { PROBE_BYTES } from './probe.mjs';

const gb = (bytes, s) => bytes / s / 1e9;
const pad = (s, w) => String(s).padStart(w);
const gain = (slow, fast) => `${slow >= fast ? '+' : ''}${(100 * (slow / fast - 1)).toFixed(0)}%`;
const ratio = (a, b) => (typeof b === 'number' ? `${(b / a).toFixed(b / a >= 100 ? 0 : 1)}x` : b === null ? 'n/a' : '-');

export function rowFigures(r) {
  const gbs = gb(r.bytesPerElement * r.elements, r.seconds);
  const roof = gb(PROBE_BYTES * r.elements, r.roofSeconds);
  const bytes = r.bytesPerElement / PROBE_BYTES;
  // ofProbe: per-round probe time over step time (elements/s over the probe's), when measured so.
  const ofRoof = r.ofProbe ? r.ofProbe.median * bytes : gbs / roof;
  const ofRoofRange = r.ofProbe ? [r.ofProbe.min * bytes, r.ofProbe.max * bytes] : null;
  return { gelems: r.elements / r.seconds / 1e9, gbs, roof, ofRoof, ofRoofRange };
}

export function printTable(rows) {
  const head = ['optimizer', 'size', 'thr', 'Gelem/s', 'GB/s', 'roof GB/s', 'of roof', 'x js', 'x tf-cpu', 'x tf-wasm'];
  const widths = [12, 9, 3, 8, 6, 9, 15, 6, 9, 9];
  const pct = (x) => (100 * x).toFixed(0);
  console.log('\n' + head.map((h, i) => pad(h, widths[i])).join(' '));
  for (const r of rows) {
    const f = rowFigures(r);
    const cells = [r.optimizer, r.size, r.threads, f.gelems.toFixed(2), f.gbs.toFixed(1), f.roof.toFixed(1),
      `${pct(f.ofRoof)}%${f.ofRoofRange ? ` [${pct(f.ofRoofRange[0])}-${pct(f.ofRoofRange[1])}]` : ''}`, ratio(r.seconds, r.jsSeconds), ratio(r.seconds, r.tfCpuSeconds), ratio(r.seconds, r.tfWasmSeconds)];
    console.log(cells.map((c, i) => pad(c, widths[i])).join(' '));
  }
  const notes = new Set();
  for (const r of rows)
    for (const [name, v] of [['tf-cpu', r.tfCpuSeconds], ['tf-wasm', r.tfWasmSeconds]])
      if (typeof v === 'string') notes.add(`${r.optimizer} ${r.size} ${name}: ${v}`);
  for (const note of notes) console.log(`  (${note})`);
  console.log('  x js / x tf-*: native step rate over theirs (single-threaded, same sizes); n/a: TF.js has no such optimizer');
}

export function printManyTensors(many) {
  console.log('\nAdam, 10,000 tensors of 1K elements vs one tensor of 10.24M (same bytes):');
  for (const m of many)
    console.log(`  ${m.threads}T: one tensor ${(m.single * 1e3).toFixed(2)} ms; 10k tensors in flat buffers ${(m.flat * 1e3).toFixed(2)} ms (${(m.flat / m.single).toFixed(2)}x), ` +
      `10k separate Float32Arrays ${(m.separate * 1e3).toFixed(2)} ms (${(m.separate / m.single).toFixed(2)}x)`);
}

export function printHugePages(huge) {
  console.log(`\nHuge pages: allocFloat32 (2 MiB pages) vs new Float32Array, ${huge[0].size} elements:`);
  for (const h of huge) {
    const p = (s) => gb(PROBE_BYTES * h.elements, s).toFixed(1);
    console.log(`  ${h.threads}T: probe ${p(h.probeNative)} vs ${p(h.probePlain)} GB/s (${gain(h.probePlain, h.probeNative)}); ` +
      `Adam with params+grads from allocFloat32 ${(h.adamNative * 1e3).toFixed(1)} vs ${(h.adamPlain * 1e3).toFixed(1)} ms (${gain(h.adamPlain, h.adamNative)}; state always allocFloat32)`);
  }
}

/** Each target as a plain statement: what was measured, and the target beside it. */
export function printTargets(rows, many, huge) {
  const find = (size, t) => rows.find((r) => r.optimizer === 'Adam' && r.size === size && r.threads === t);
  const lines = [];
  const pct = (x) => `${(100 * x).toFixed(0)}%`;
  for (const [size, want] of [['64M', 0.95], ['16M', 0.9], ['1M', 0.9]]) {
    const r = find(size, 2);
    if (r) lines.push([`Adam ${size}, 2 threads: ${pct(rowFigures(r).ofRoof)} of the memory roof`, `at least ${pct(want)}`, rowFigures(r).ofRoof >= want]);
  }
  const big = find('64M', 2) ?? find('16M', 2);
  if (big) {
    const x = big.jsSeconds / big.seconds;
    lines.push([`Adam ${big.size}, 2 threads: ${x.toFixed(1)}x the 'js' backend`, 'at least 8x', x >= 8]);
    // TF.js: the largest size where it was measured.
    for (const [key, name, want] of [['tfWasmSeconds', 'TF.js wasm', 10], ['tfCpuSeconds', 'TF.js cpu', 100]]) {
      const r = [...rows].reverse().find((x) => x.optimizer === 'Adam' && x.threads === 2 && typeof x[key] === 'number');
      if (r) lines.push([`Adam ${r.size}, 2 threads: ${(r[key] / r.seconds).toFixed(0)}x ${name}`, `at least ${want}x`, r[key] / r.seconds >= want]);
    }
  }
  for (const m of many)
    lines.push([`10,000 x 1K tensors, ${m.threads} threads: ${(m.flat / m.single).toFixed(2)}x (views of one buffer) and ` +
      `${(m.separate / m.single).toFixed(2)}x (separate arrays) the time of one 10.24M tensor`, 'views within 1.5x', m.flat / m.single <= 1.5]);
  for (const h of huge)
    lines.push([`Adam ${h.size}, ${h.threads} threads: params and grads from allocFloat32 ${gain(h.adamPlain, h.adamNative)} faster than plain arrays`,
      'faster', h.adamNative < h.adamPlain]);
  console.log('\nMeasured against the targets:');
  for (const [what, target, met] of lines) console.log(`  ${what} (target: ${target}${met ? '' : '; below it'})`);
}
