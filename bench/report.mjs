// The printed tables. Rates: elements per second; GB/s: the bytes the optimizer must move per
// element (bytesPerElement) times elements per second; roof: the stream probe's GB/s (28 bytes per
// element) on the same element count and threads, measured in the same run.
import { PROBE_BYTES } from './probe.mjs';

const gb = (bytes, s) => bytes / s / 1e9;
const pad = (s, w) => String(s).padStart(w);
const gain = (slow, fast) => `${slow >= fast ? '+' : ''}${(100 * (slow / fast - 1)).toFixed(0)}%`;
const ratio = (a, b) => (typeof b === 'number' ? `${(b / a).toFixed(b / a >= 100 ? 0 : 1)}x` : b === null ? 'n/a' : '-');

export function rowFigures(r) {
  const gbs = gb(r.bytesPerElement * r.elements, r.seconds);
  const roof = gb(PROBE_BYTES * r.elements, r.roofSeconds);
  return { melems: r.elements / r.seconds / 1e6, gbs, roof, ofRoof: gbs / roof };
}

export function printTable(rows) {
  const head = ['optimizer', 'size', 'thr', 'Melem/s', 'GB/s', 'roof GB/s', 'of roof', 'x js', 'x tf-cpu', 'x tf-wasm'];
  const widths = [12, 9, 3, 8, 6, 9, 7, 6, 9, 9];
  console.log('\n' + head.map((h, i) => pad(h, widths[i])).join(' '));
  for (const r of rows) {
    const f = rowFigures(r);
    const cells = [r.optimizer, r.size, r.threads, f.melems.toFixed(0), f.gbs.toFixed(1), f.roof.toFixed(1),
      `${(100 * f.ofRoof).toFixed(0)}%`, ratio(r.seconds, r.jsSeconds), ratio(r.seconds, r.tfCpuSeconds), ratio(r.seconds, r.tfWasmSeconds)];
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

export function printTargets(rows, many, huge) {
  const find = (size, t) => rows.find((r) => r.optimizer === 'Adam' && r.size === size && r.threads === t);
  const lines = [];
  const roofTarget = (size, want) => {
    const r = find(size, 2);
    if (r) lines.push([`Adam ${size} 2T >= ${want}% of roof`, rowFigures(r).ofRoof * 100 >= want, `${(rowFigures(r).ofRoof * 100).toFixed(0)}%`]);
  };
  roofTarget('64M', 95);
  roofTarget('16M', 90);
  roofTarget('1M', 90);
  const big = find('64M', 2) ?? find('16M', 2);
  if (big) {
    lines.push([`Adam ${big.size} 2T >= 8x js`, big.jsSeconds / big.seconds >= 8, `${(big.jsSeconds / big.seconds).toFixed(1)}x`]);
    // TF.js: the largest size where it was measured.
    for (const [key, name, want] of [['tfWasmSeconds', 'tf-wasm', 10], ['tfCpuSeconds', 'tf-cpu', 100]]) {
      const r = [...rows].reverse().find((x) => x.optimizer === 'Adam' && x.threads === 2 && typeof x[key] === 'number');
      if (r) lines.push([`Adam ${r.size} 2T >= ${want}x ${name}`, r[key] / r.seconds >= want, `${(r[key] / r.seconds).toFixed(0)}x`]);
    }
  }
  for (const m of many)
    lines.push([`10k x 1K within 1.5x of 1 x 10.24M, ${m.threads}T (flat / separate arrays)`, m.flat / m.single <= 1.5,
      `${(m.flat / m.single).toFixed(2)}x / ${(m.separate / m.single).toFixed(2)}x`]);
  for (const h of huge)
    lines.push([`allocFloat32 faster than plain arrays, Adam ${h.size} ${h.threads}T`, h.adamNative < h.adamPlain, gain(h.adamPlain, h.adamNative)]);
  console.log('\nTargets (issue 4):');
  for (const [what, met, got] of lines) console.log(`  ${met ? 'met    ' : 'NOT met'}  ${what}: ${got}`);
}
