import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendInfo } from 'adam-native';
import type { RunResult } from './train';

/** demo-out/meta.json: what results.json was measured with. */
export interface RunMetadata {
  package: string;
  /** The demo's backend option, and the backends the runs used. */
  backendOption: string;
  backends: string[];
  isa: string | null;
  threads: number;
  date: string;
  machine: { cpu: string; cores: number; memGiB: number; platform: string; node: string };
}

export function runMetadata(results: RunResult[], backendOption: string): RunMetadata {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { name: string; version: string };
  const info = backendInfo();
  return {
    package: `${pkg.name}@${pkg.version}`,
    backendOption,
    backends: [...new Set(results.map((r) => r.backend))],
    isa: info.isa,
    threads: info.threads,
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
    },
  };
}

/** One line of demo-out/results.json. */
export interface ResultRecord {
  experiment: string;
  optimizer: string;
  lr: number;
  epochs: number;
  /** null when the run diverged. */
  trainNLL: number | null;
  testAccuracy: number | null;
  seconds: number;
  /** bow: the weight table's update path and the optimizer's time per epoch. */
  update?: { path: 'sparse' | 'dense'; msPerEpoch: number };
  best?: true;
}

/** The best run of each (experiment, optimizer): the lowest final training NLL, as the paper picks. */
export function bestRuns(results: RunResult[]): Set<RunResult> {
  const best = new Map<string, RunResult>();
  for (const r of results) {
    if (r.diverged) continue;
    const key = `${r.experiment}\u0000${r.optimizer}`;
    const current = best.get(key);
    if (!current || r.trainNLL < current.trainNLL) best.set(key, r);
  }
  return new Set(best.values());
}

export function toRecords(results: RunResult[]): ResultRecord[] {
  const best = bestRuns(results);
  return results.map((r) => ({
    experiment: r.experiment,
    optimizer: r.optimizer,
    lr: r.lr,
    epochs: r.epochs,
    trainNLL: r.diverged ? null : r.trainNLL,
    testAccuracy: r.diverged ? null : r.testAccuracy,
    seconds: Math.round(r.seconds * 100) / 100,
    ...('update' in r ? { update: (r as { update: ResultRecord['update'] }).update } : {}),
    ...(best.has(r) ? { best: true as const } : {}),
  }));
}

/** The final table: per experiment and optimizer, its best step size and how that run ended. */
export function formatTable(results: RunResult[]): string {
  const best = bestRuns(results);
  const rows: string[][] = [['experiment', 'optimizer', 'best lr', 'train NLL', 'test acc', 'seconds']];
  const seen = new Set<string>();
  for (const r of results) {
    const key = `${r.experiment}\u0000${r.optimizer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const b = results.find((x) => best.has(x) && x.experiment === r.experiment && x.optimizer === r.optimizer);
    rows.push(
      b
        ? [b.experiment, b.optimizer, String(b.lr), b.trainNLL.toFixed(4), `${(100 * b.testAccuracy).toFixed(2)}%`, b.seconds.toFixed(1)]
        : [r.experiment, r.optimizer, '-', 'diverged', '-', '-'],
    );
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Every curve point of every run, one CSV row each. */
export function toCsv(results: RunResult[]): string {
  const lines = ['experiment,optimizer,lr,epoch,train_nll'];
  for (const r of results)
    for (const p of r.curve) lines.push([r.experiment, JSON.stringify(r.optimizer), r.lr, p.epoch.toFixed(4), p.nll].join(','));
  return `${lines.join('\n')}\n`;
}

export function writeReports(dir: string, results: RunResult[], backendOption = 'auto'): { table: string; files: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'results.json'), path.join(dir, 'curves.csv'), path.join(dir, 'table.txt'), path.join(dir, 'meta.json')];
  const table = formatTable(results);
  fs.writeFileSync(files[0], `${JSON.stringify(toRecords(results), null, 2)}\n`);
  fs.writeFileSync(files[1], toCsv(results));
  fs.writeFileSync(files[2], `${table}\n`);
  fs.writeFileSync(files[3], `${JSON.stringify(runMetadata(results, backendOption), null, 2)}\n`);
  return { table, files };
}
