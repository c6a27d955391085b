// Launched by test/distributed.test.ts (and .ci/run) as `mpirun -np N node test/distributed/parity.cjs`.
// Every optimizer of the registry, sharded over the N ranks, against one process on this rank that
// steps the grads summed in rank order (then averaged): the parameters after every step, the
// gathered state, and resuming from sharded and full state dicts, all compared bit for bit.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { distributed, OPTIMIZERS } = require(path.join(__dirname, '..', '..', 'dist'));

const comm = distributed.mpi();
const { rank, size } = comm;
const f = Math.fround;
const fail = (msg) => {
  process.stdout.write(`FAIL rank ${rank}: ${msg}\n`);
  process.exitCode = 1;
};

// Lengths chosen so slice boundaries cut parameters at odd places for N = 2, 3, 4.
const GROUPS = [[37, 1, 300], [129, 5]];
const STEPS = 7;

// A deterministic grad for (rank, step, param), magnitudes varying by rank so the order of the sum matters.
function gradFor(r, step, p, n) {
  const g = new Float32Array(n);
  let s = (r * 7919 + step * 104729 + p * 1299709 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    g[i] = ((s / 2 ** 32) * 2 - 1) * 10 ** ((r % 3) * 2 - 2);
  }
  return g;
}

function summed(step, p, n, world, average) {
  const out = new Float32Array(n);
  for (let r = 0; r < world; r++) {
    const g = gradFor(r, step, p, n);
    for (let i = 0; i < n; i++) out[i] = r === 0 ? g[i] : f(out[i] + g[i]);
  }
  if (average) for (let i = 0; i < n; i++) out[i] = f(out[i] / world);
  return out;
}

function makeParams() {
  let k = 0;
  return GROUPS.map((lengths) =>
    lengths.map((n) => {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.sin(k * 31 + i) * 0.5;
      k++;
      return { name: `p${k}`, data, grad: new Float32Array(n) };
    }),
  );
}

const groupsOf = (params, entry) => [
  { params: params[0] },
  { params: params[1], lr: 0.005 },
];

function sameBits(a, b, what) {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return fail(`${what}: length ${x.length} vs ${y.length}`), false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`), false;
  return true;
}

// The sum above must depend on the rank order (else the test could not tell): reversed differs.
if (size >= 3) {
  const n = 300, fwd = summed(0, 2, n, size, false), rev = new Float32Array(n);
  for (let r = size - 1; r >= 0; r--) {
    const g = gradFor(r, 0, 2, n);
    for (let i = 0; i < n; i++) rev[i] = r === size - 1 ? g[i] : f(rev[i] + g[i]);
  }
  if (fwd.every((v, i) => Object.is(v, rev[i]))) fail('the test grads sum to the same bits in either rank order');
}

async function run(entry, { backend, average, async }) {
  const options = { ...entry.base, ...entry.paths, backend, threads: 1 + (rank % 3) };
  const mine = makeParams(), ref = makeParams();
  const opt = new entry.Class(groupsOf(mine, entry), { ...options, shard: comm, ...(average ? {} : { gradAverage: false }) });
  const single = new entry.Class(groupsOf(ref, entry), { ...options, threads: 2 });
  const what = `${entry.name} ${backend} average=${average} async=${async}`;
  const stepBoth = async (step) => {
    mine.flat().forEach((p, i) => p.grad.set(gradFor(rank, step, i, p.data.length)));
    ref.flat().forEach((p, i) => p.grad.set(summed(step, i, p.data.length, size, average)));
    if (async && step % 2 === 1) await opt.stepAsync();
    else opt.step();
    single.step();
    mine.flat().forEach((p, i) => sameBits(p.data, ref.flat()[i].data, `${what} step ${step} ${p.name}`));
  };
  for (let s = 0; s < STEPS; s++) await stepBoth(s);

  // The gathered state is the single process's.
  const full = comm.gatherStateDict(opt);
  if (rank === 0) {
    const want = single.stateDict();
    for (const [name, slots] of Object.entries(want.state))
      for (const [slot, values] of Object.entries(slots)) sameBits(full.state[name][slot], values, `${what} gathered ${name}.${slot}`);
    if (full.step !== want.step) fail(`${what}: gathered step ${full.step}`);
  } else if (full !== null) fail(`${what}: gatherStateDict returned a dict on rank ${rank}`);

  // Resume: from this rank's sharded dict, and from the single process's full dict.
  const sharded = opt.stateDict();
  if (sharded.shard.worldSize !== size || sharded.shard.rank !== rank) fail(`${what}: shard info ${JSON.stringify(sharded.shard)}`);
  const fromFull = makeParams(), fromShard = makeParams();
  [fromFull, fromShard].forEach((ps) => ps.flat().forEach((p, i) => p.data.set(mine.flat()[i].data)));
  const a = new entry.Class(groupsOf(fromShard, entry), { ...options, shard: comm, ...(average ? {} : { gradAverage: false }) });
  a.loadStateDict(sharded);
  const b = new entry.Class(groupsOf(fromFull, entry), { ...options, shard: comm, ...(average ? {} : { gradAverage: false }) });
  b.loadStateDict(single.stateDict());
  for (let s = STEPS; s < STEPS + 3; s++) {
    for (const ps of [fromShard, fromFull]) ps.flat().forEach((p, i) => p.grad.set(gradFor(rank, s, i, p.data.length)));
    a.step();
    b.step();
    await stepBoth(s);
    fromShard.flat().forEach((p, i) => sameBits(p.data, mine.flat()[i].data, `${what} resumed (sharded dict) step ${s} ${p.name}`));
    fromFull.flat().forEach((p, i) => sameBits(p.data, mine.flat()[i].data, `${what} resumed (full dict) step ${s} ${p.name}`));
  }
  if (entry.name === 'Adam' && backend === 'native') await checkpoints(entry, { ...options, ...(average ? {} : { gradAverage: false }) }, opt, mine, what);
  for (const o of [opt, single, a, b]) o.dispose();
}

// save() on every rank, load() into a fresh sharded optimizer with zeroed params: the same bits
// on; another rank's file is refused (while its slice has the same length or not).
async function checkpoints(entry, options, opt, mine, what) {
  const dirBytes = comm.binding.broadcast(new TextEncoder().encode(rank === 0 ? fs.mkdtempSync(path.join(os.tmpdir(), 'adam-dist-')) : ''));
  const dir = new TextDecoder().decode(dirBytes);
  const file = (r) => path.join(dir, `rank${r}.safetensors`);
  await opt.save(file(rank), { params: true });
  comm.barrier();
  const restored = makeParams();
  const c = new entry.Class(groupsOf(restored, entry), { ...options, shard: comm });
  if (size > 1) {
    try {
      c.loadSync(file((rank + 1) % size));
      fail(`${what}: loaded another rank's checkpoint`);
    } catch (e) {
      if (!/holds a sharded optimizer's slice/.test(e.message)) fail(`${what}: another rank's file: ${e.message}`);
    }
  }
  await c.load(file(rank));
  restored.flat().forEach((p, i) => sameBits(p.data, mine.flat()[i].data, `${what} params after load ${p.name}`));
  restored.flat().forEach((p, i) => p.grad.set(gradFor(rank, 99, i, p.data.length)));
  mine.flat().forEach((p, i) => p.grad.set(gradFor(rank, 99, i, p.data.length)));
  c.step();
  opt.step();
  restored.flat().forEach((p, i) => sameBits(p.data, mine.flat()[i].data, `${what} step after load ${p.name}`));
  c.dispose();
  comm.barrier();
  if (rank === 0) fs.rmSync(dir, { recursive: true, force: true });
}

(async () => {
  for (const entry of OPTIMIZERS) {
    await run(entry, { backend: 'native', average: true, async: true });
    if (process.exitCode) break;
  }
  // The TypeScript backend, and plain sums, on two rules.
  for (const entry of OPTIMIZERS.filter((o) => o.name === 'Adam' || o.name === 'SGD')) {
    await run(entry, { backend: 'js', average: true, async: false });
    await run(entry, { backend: 'native', average: false, async: false });
  }
  comm.barrier();
  process.stdout.write(process.exitCode ? `failed rank ${rank}\n` : `ok rank ${rank} of ${size}\n`);
})().catch((e) => {
  process.stdout.write(`FAIL rank ${rank}: ${e.stack}\n`);
  process.exit(1);
});
