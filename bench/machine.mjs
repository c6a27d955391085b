// What the numbers were measured on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { backendInfo } from '../dist/index.mjs';

export function machine() {
  let thp = 'unknown';
  try {
    thp = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))[1];
  } catch {}
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown', // /proc/cpuinfo's model name, as lscpu prints it
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    thp,
    node: process.version,
    isa: backendInfo().isa,
    load: os.loadavg().map((x) => x.toFixed(1)).join(' '),
  };
}
