// Launched by test/distributed.test.ts as `mpirun -np 2 node test/distributed/errors.cjs`: the
// sharded optimizer's errors, each thrown on every rank before anything changes.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { distributed, Adam, clipGradNorm } = require(path.join(__dirname, '..', '..', 'dist'));

const comm = distributed.mpi();
const { rank } = comm;
const fail = (msg) => {
  process.stdout.write(`FAIL rank ${rank}: ${msg}\n`);
  process.exitCode = 1;
};
function expectThrow(what, fn, kind, pattern) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof kind) || !pattern.test(e.message)) fail(`${what}: threw ${e.constructor.name}: ${e.message}`);
    return;
  }
  fail(`${what}: did not throw`);
}
const param = (name, n, v = 0.5) => ({ name, data: new Float32Array(n).fill(v), grad: new Float32Array(n).fill(0.1) });

(async () => {
  // Parameter lists that differ across ranks: every rank throws; the odd one names the difference.
  expectThrow('lengths differ', () => new Adam([param('w', rank === 1 ? 11 : 10)], { lr: 0.1, shard: comm }), Error,
    rank === 1 ? /parameter lists differ \(params\[0\] "w" has length 11 on rank 1 but 10 on rank 0\)/ : /parameter lists differ \(another rank's differs/);
  expectThrow('names differ', () => new Adam([param(rank === 1 ? 'v' : 'w', 10)], { lr: 0.1, shard: comm }), Error, /parameter lists differ/);
  expectThrow('counts differ', () => new Adam(rank === 1 ? [param('w', 10)] : [param('w', 10), param('b', 2)], { lr: 0.1, shard: comm }), Error, /parameter lists differ/);

  const ps = [param('w', 10), param('b', 3)];
  const opt = new Adam(ps, { lr: 0.1, shard: comm, skipNonFinite: true });
  expectThrow('addParamGroup', () => opt.addParamGroup({ params: [param('c', 2)] }), Error, /fixed at construction/);

  // A non-finite grad on one rank: no rank changes anything.
  if (rank === 1) ps[0].grad[3] = NaN;
  const before = ps.map((p) => new Float32Array(p.data));
  const sdBefore = opt.stateDict();
  if (opt.step() !== false) fail('a NaN grad on rank 1 did not skip the step');
  if (opt.stepCount !== 0) fail('the skipped step counted');
  ps.forEach((p, i) => p.data.forEach((v, k) => Object.is(v, before[i][k]) || fail(`skipped step changed ${p.name}[${k}]`)));
  ps[0].grad[3] = 0.1;
  const grads = ps.map((p) => new Float32Array(p.grad));
  if (opt.step() !== true) fail('a finite step was skipped');
  ps.forEach((p, i) => p.grad.forEach((v, k) => Object.is(v, grads[i][k]) || fail(`the step wrote the user's grad ${p.name}[${k}]`)));

  // A stepAsync in flight: the communicator refuses other collectives.
  const pending = opt.stepAsync();
  expectThrow('barrier during stepAsync', () => comm.barrier(), Error, /in flight/);
  await pending;

  // State dicts that do not fit.
  const mine = opt.stateDict();
  const other = { ...mine, shard: { ...mine.shard, rank: 1 - rank, start: rank === 0 ? 7 : 0, end: rank === 0 ? 13 : 7 } };
  expectThrow('other rank\'s dict', () => opt.loadStateDict(other), Error, /holds the slice of rank/);
  const plain = new Adam([param('w', 10), param('b', 3)], { lr: 0.1 });
  expectThrow('sharded dict into unsharded', () => plain.loadStateDict(mine), Error, /one rank's slice/);
  if (JSON.stringify(opt.stateDict().shard) !== JSON.stringify(mine.shard) || opt.stepCount !== 2) fail('a failed load changed the optimizer');
  void sdBefore;

  // A whole-model checkpoint file is refused by a sharded optimizer, naming the way that works.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `adam-dist-${rank}-`));
  const whole = new Adam([param('w', 10), param('b', 3)], { lr: 0.1 });
  whole.step();
  whole.saveSync(path.join(dir, 'whole.safetensors'));
  try {
    opt.loadSync(path.join(dir, 'whole.safetensors'));
    fail('a whole-model file loaded into a sharded optimizer');
  } catch (e) {
    if (!/holds whole parameters; this optimizer is sharded .*give its stateDict\(\) to loadStateDict/.test(e.message)) fail(`whole file: ${e.message}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (opt.stepCount !== 2) fail('a refused load changed the optimizer');

  // comm.allReduce: in place, the rank-order float32 sum (then / N), whatever MPI's algorithm.
  const gen = (r, n) => Float32Array.from({ length: n }, (_, i) => Math.sin(r * 1000 + i) * 10 ** (r * 3 - 2));
  for (const average of [false, true]) {
    const arrays = [gen(rank, 5), gen(rank + 7, 1), gen(rank + 9, 8)];
    comm.allReduce(arrays, { average });
    [5, 1, 8].forEach((n, k) => {
      const want = new Float32Array(n);
      for (let r = 0; r < comm.size; r++) {
        const g = gen(r + [0, 7, 9][k], n);
        for (let i = 0; i < n; i++) want[i] = r === 0 ? g[i] : Math.fround(want[i] + g[i]);
      }
      if (average) for (let i = 0; i < n; i++) want[i] = Math.fround(want[i] / comm.size);
      for (let i = 0; i < n; i++) if (!Object.is(want[i], arrays[k][i])) fail(`allReduce average=${average} arrays[${k}][${i}]: ${arrays[k][i]} vs ${want[i]}`);
    });
  }
  expectThrow('allReduce of different lengths', () => comm.allReduce([new Float32Array(rank === 1 ? 3 : 4)]), RangeError, /different lengths/);

  // clipGradNorm would see this rank's grads only: refused, naming the parameter; after dispose() allowed.
  expectThrow('clipGradNorm on sharded grads', () => clipGradNorm(ps, 1), Error, /params\[0\]'s grad belongs to an optimizer sharded over MPI/);
  const norm0 = ps[0].grad[0];
  if (ps[0].grad[0] !== norm0) fail('the refused clip changed a grad');

  // Options that need no MPI at all.
  expectThrow('shard not a comm', () => new Adam([param('w', 4)], { lr: 0.1, shard: {} }), TypeError, /option 'shard' must be a communicator/);

  // A finalised communicator.
  comm.finalize();
  expectThrow('step after finalize', () => opt.step(), Error, /finalised/);
  expectThrow('new sharded optimizer after finalize', () => new Adam([param('w', 4)], { lr: 0.1, shard: comm }), Error, /finalised/);
  expectThrow('barrier after finalize', () => comm.barrier(), Error, /finalised/);
  opt.dispose();
  if (!(clipGradNorm(ps, 1e9) > 0)) fail('clipGradNorm after dispose');
  process.stdout.write(process.exitCode ? `failed rank ${rank}\n` : `ok rank ${rank} of ${comm.size}\n`);
})().catch((e) => {
  process.stdout.write(`FAIL rank ${rank}: ${e.stack}\n`);
  process.exit(1);
});
