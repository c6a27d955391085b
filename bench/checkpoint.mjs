// Checkpoint write speed against the disk's own: a 10^8-parameter Adam state with params (1.2 GB)
// saved with fsyncs, next to a plain sequential write of as many bytes (fsync included) in the same
// directory and the same run. Also CRC-32C throughput: the addon's (CPU CRC instruction) against a table-free loop.
// Usage: node bench/checkpoint.mjs [directory]   (default: the OS temp directory)
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../dist/checkpoint/crc32c.js';
import { Adam } from '../dist/index.mjs';
import { machine } from './machine.mjs';

const N = 1e8;
const dir = fs.mkdtempSync(join(process.argv[2] ?? os.tmpdir(), 'adam-ckpt-bench-'));
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const mbps = (bytes, s) => Math.round(bytes / s / 1e6);

const data = new Float32Array(N);
const grad = new Float32Array(N);
for (let i = 0; i < N; i++) (data[i] = Math.sin(i)), (grad[i] = Math.cos(i * 0.7));
const opt = new Adam([{ name: 'w', data, grad }]);
opt.step();
const bytes = 3 * 4 * N;

// The disk: the same number of bytes, 16 MiB writes, one fsync, from the same (incompressible) memory.
function diskWrite() {
  const path = join(dir, 'plain.bin');
  const src = new Uint8Array(data.buffer);
  const t0 = process.hrtime.bigint();
  const fd = fs.openSync(path, 'w');
  for (let left = bytes; left > 0; ) {
    const n = Math.min(16 << 20, left, src.length);
    fs.writeSync(fd, src, 0, n);
    left -= n;
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const s = seconds(t0);
  fs.rmSync(path);
  return s;
}

async function save(sync) {
  const path = join(dir, 'adam.safetensors');
  const t0 = process.hrtime.bigint();
  if (sync) opt.saveSync(path, { params: true });
  else await opt.save(path, { params: true });
  const s = seconds(t0);
  const size = fs.statSync(path).size;
  fs.rmSync(path);
  return { s, size };
}

// Each measured twice, in mirrored order (so neither gains from going first), best of two.
const disk1 = diskWrite();
const sync1 = await save(true);
const async1 = await save(false);
const disk2 = diskWrite();
const async2 = await save(false);
const sync2 = await save(true);
const disk = Math.min(disk1, disk2);
const saveSync = sync1.s < sync2.s ? sync1 : sync2;
const saveAsync = async1.s < async2.s ? async1 : async2;

// CRC-32C: 256 MiB through the addon, 8 MiB through the bitwise definition.
const big = new Uint8Array(data.buffer, 0, 256 << 20);
let t0 = process.hrtime.bigint();
crc32c(big);
const crcNative = mbps(big.length, seconds(t0));
function bitwise(b) {
  let crc = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    crc ^= b[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const small = big.subarray(0, 8 << 20);
t0 = process.hrtime.bigint();
bitwise(small);
const crcBitwise = mbps(small.length, seconds(t0));
fs.rmSync(dir, { recursive: true, force: true });

const result = {
  machine: machine(),
  directory: process.argv[2] ?? os.tmpdir(),
  bytes: saveSync.size,
  diskMBps: [mbps(bytes, disk1), mbps(bytes, disk2)],
  saveSyncMBps: [mbps(sync1.size, sync1.s), mbps(sync2.size, sync2.s)],
  saveAsyncMBps: [mbps(async1.size, async1.s), mbps(async2.size, async2.s)],
  // Best save against the best disk run.
  saveSyncOfDisk: +(saveSync.size / saveSync.s / (bytes / disk)).toFixed(2),
  saveAsyncOfDisk: +(saveAsync.size / saveAsync.s / (bytes / disk)).toFixed(2),
  crc32cMBps: { 'native addon': crcNative, 'table-free JS': crcBitwise },
};
console.log(JSON.stringify(result, null, 2));
