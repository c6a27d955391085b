// node bench/markdown.mjs [results.json]: the README's compact table from a bench JSON (default:
// the newest in bench/results/), one row per optimizer and size, 1 and 2 threads side by side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rowFigures } from './report.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const file = process.argv[2] ?? path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().pop());
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const times = (a, b) => (typeof b === 'number' ? `${Math.round(b / a)}x` : b === null ? 'n/a' : '—');
const pct = (x) => `${Math.round(100 * x)}%`;

console.log(`Measured ${r.date.slice(0, 10)} on a CPU whose model name (lscpu) is "${r.machine.cpu}", ${r.machine.cores} cores, ${r.machine.memGiB} GiB, THP ${r.machine.thp}, ` +
  `Node ${r.machine.node}, ${r.machine.isa}; load average at start ${r.machine.load}. ${r.method}.\n`);
console.log('| optimizer | size | Gelem/s 1T / 2T | GB/s 1T / 2T | of roof 1T / 2T | x js | x TF.js cpu | x TF.js wasm |');
console.log('|---|---|---|---|---|---|---|---|');
const keys = [...new Set(r.rows.map((x) => `${x.optimizer}|${x.size}`))];
for (const key of keys) {
  const [one, two] = [1, 2].map((t) => r.rows.find((x) => `${x.optimizer}|${x.size}` === key && x.threads === t));
  const [f1, f2] = [rowFigures(one), rowFigures(two)];
  console.log(`| ${one.optimizer} | ${one.size} | ${f1.gelems.toFixed(2)} / ${f2.gelems.toFixed(2)} | ` +
    `${f1.gbs.toFixed(0)} / ${f2.gbs.toFixed(0)} | ${pct(f1.ofRoof)} / ${pct(f2.ofRoof)} | ${times(two.seconds, two.jsSeconds)} | ` +
    `${times(two.seconds, two.tfCpuSeconds)} | ${times(two.seconds, two.tfWasmSeconds)} |`);
}
for (const m of r.manyTensors)
  console.log(`\n10k x 1K vs one 10.24M tensor, ${m.threads}T: ${(m.flat / m.single).toFixed(2)}x with flat param/grad buffers, ` +
    `${(m.separate / m.single).toFixed(2)}x with 10k separate Float32Arrays each.`);
for (const h of r.hugePages)
  console.log(`\nHuge pages (${h.size}, ${h.threads}T): Adam ${Math.round(100 * (h.adamPlain / h.adamNative - 1))}% faster with params and grads from allocFloat32; ` +
    `probe ${Math.round(100 * (h.probePlain / h.probeNative - 1))}%.`);
