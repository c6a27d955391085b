// npm run bench:distributed: Adam on 64M parameters sharded over N = 1 and 2 MPI ranks on this
// machine (each N launched with mpirun), then a table from a stated model for 10^9..10^11
// parameters on 2..1,024 ranks. `-- --params 16777216` for a smaller model, `-- --steps 5`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PARAMS = arg('params', 64 * 2 ** 20);
const STEPS = arg('steps', 3);

if (process.env.ADAM_BENCH_RANK_WORKER === '1') await worker();
else await main();

// One rank: a transformer-like split of PARAMS into tensors, sharded Adam, timed steps.
async function worker() {
  const { Adam, distributed, allocFloat32 } = require('../dist');
  const comm = distributed.mpi();
  const lengths = [];
  for (let left = PARAMS; left > 0; left -= lengths[lengths.length - 1]) lengths.push(Math.min(left, 2 ** 22 + 12345));
  const params = lengths.map((n, i) => ({ name: `t${i}`, data: allocFloat32(n).fill(0.01), grad: allocFloat32(n).fill(1e-3 * (comm.rank + 1)) }));
  const opt = new Adam(params, { lr: 1e-3, shard: comm });
  opt.step(); // warm: pages touched, plan made
  comm.binding.stats(true);
  comm.barrier();
  let t0 = performance.now();
  for (let s = 0; s < STEPS; s++) opt.step();
  const perStep = (performance.now() - t0) / 1e3 / STEPS;
  const stats = comm.binding.stats(true);
  // The reduction alone: ours (Alltoallv, then the rank-order sum) against MPI_Reduce_scatter.
  const total = PARAMS, size = comm.size, base = Math.floor(total / size);
  const c = Array.from({ length: size }, (_, r) => base + (r < total % size ? 1 : 0));
  const send = allocFloat32(total).fill(1e-3), out = allocFloat32(c[comm.rank]), scratch = allocFloat32(c[comm.rank] * size);
  let ours = Infinity, mpiRs = Infinity;
  for (let k = 0; k < STEPS; k++) {
    comm.barrier();
    t0 = performance.now();
    comm.binding.reduceScatter(send, c, scratch, out, true);
    ours = Math.min(ours, (performance.now() - t0) / 1e3);
    comm.barrier();
    t0 = performance.now();
    comm.binding.mpiReduceScatter(send, c, out);
    mpiRs = Math.min(mpiRs, (performance.now() - t0) / 1e3);
  }
  if (comm.rank === 0)
    console.log(JSON.stringify({
      size, params: PARAMS, tensors: lengths.length, secondsPerStep: perStep,
      mpiSeconds: stats.mpiSeconds / STEPS, sumSeconds: stats.sumSeconds / STEPS, bytesSentPerRank: stats.bytesSent / STEPS,
      reduceOurs: ours, reduceMpi: mpiRs, library: comm.library, threadLevel: comm.threadLevel,
    }));
  opt.dispose();
}

async function main() {
  const rows = [];
  for (const n of [1, 2]) {
    const r = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', String(n), process.execPath, SELF, '--params', String(PARAMS), '--steps', String(STEPS)], {
      encoding: 'utf8', env: { ...process.env, ADAM_BENCH_RANK_WORKER: '1' }, maxBuffer: 16 << 20,
    });
    if (r.error || r.status !== 0) {
      console.error(`mpirun -np ${n} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').slice(-2000)}`);
      console.error('bench:distributed needs Open MPI (apt-get install openmpi-bin libopenmpi-dev) and the MPI addon (npx cmake-js compile)');
      process.exit(1);
    }
    rows.push(JSON.parse(r.stdout.trim().split('\n').find((l) => l.startsWith('{'))));
  }
  const mb = (b) => (b / 2 ** 20).toFixed(0);
  console.log(`Adam, ${(PARAMS / 2 ** 20).toFixed(0)}M parameters in ${rows[0].tensors} tensors, ${STEPS} timed steps, ${rows[0].library} (${rows[0].threadLevel}), one machine`);
  console.log('| N | s/step | MiB sent/rank/step | in MPI | local rank-order sum | reduce: Alltoallv+sum | reduce: MPI_Reduce_scatter |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.size} | ${r.secondsPerStep.toFixed(3)} | ${mb(r.bytesSentPerRank)} | ${r.mpiSeconds.toFixed(3)} s (${((100 * r.mpiSeconds) / r.secondsPerStep).toFixed(0)}%) | ${r.sumSeconds.toFixed(3)} s | ${r.reduceOurs.toFixed(3)} s | ${r.reduceMpi.toFixed(3)} s |`);
  modelTable(rows[0].secondsPerStep / PARAMS);
}

// The model: fp32 Adam, P parameters, N ranks, ZeRO stage 1 as implemented here.
function modelTable(updatePerParam) {
  const LINK = 12.5e9; // bytes/s each rank sends (and receives) at: 100 Gb/s Ethernet or InfiniBand EDR
  console.log(`
Model (assumptions): per-rank state 12 x P / N bytes (fp32 Adam: the two moments and the parameter slice
being updated); each step a rank sends (N-1)/N x 4P bytes in the Alltoallv of the grads and (N-1)/N x 4P in the
Allgatherv of the parameters, so 8P(N-1)/N bytes, at ${LINK / 1e9} GB/s per rank (100 Gb/s links, full bisection,
no overlap of communication with the update); the local update and sum take the N = 1 time measured above per
parameter (${(updatePerParam * 1e9).toFixed(2)} ns) x P/N (optimistic at large N: packing grads and unpacking params
stay O(P) per rank). Every rank also holds the full params and grads (4P + 4P)
and the exchange buffers (about 8P): ZeRO stage 1 shards the state only.`);
  console.log('| P | N | state/rank | sent/rank/step | comm s/step | update s/step | step s |');
  console.log('|---|---|---|---|---|---|---|');
  const gb = (b) => (b >= 1e12 ? `${(b / 1e12).toFixed(1)} TB` : b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${(b / 1e6).toFixed(0)} MB`);
  for (const P of [1e9, 1e10, 1e11])
    for (const N of [2, 8, 64, 1024]) {
      const sent = (8 * P * (N - 1)) / N, comm = sent / LINK, update = (updatePerParam * P) / N;
      console.log(`| ${P.toExponential(0)} | ${N} | ${gb((12 * P) / N)} | ${gb(sent)} | ${comm.toFixed(2)} | ${update.toFixed(3)} | ${(comm + update).toFixed(2)} |`);
    }
}
