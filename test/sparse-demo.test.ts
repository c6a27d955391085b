import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBowExperiment } from '../examples/bow-experiment';
import { tokenize } from '../examples/bow-data';

const ROOT = path.join(__dirname, '..');

describe('bag-of-words experiment (bow)', () => {
  it('tokenises the body only, lower-cased words of letters and digits', () => {
    expect(tokenize('Subject: WIN money\nFrom: x@y\n\nClick HERE to win $1000 now!')).toEqual(['click', 'here', 'to', 'win', '1000', 'now']);
  });

  it('trains every optimizer on a subset, sparse where it can, and writes the plot and table', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-native-bow-'));
    try {
      const { results, files, table } = await runBowExperiment({ full: false, backend: 'auto', out, limit: 200, epochs: 2 });
      expect(results.map((r) => [r.optimizer, r.update.path])).toEqual([
        ['Adam', 'sparse'], ['AdaGrad', 'sparse'], ['RMSProp', 'dense'], ['SGD-Nesterov', 'dense'], ['AdaMax', 'dense'], ['Adam (dense)', 'dense'], ['AdaGrad (dense)', 'dense'],
      ]);
      for (const r of results) {
        expect(r.experiment).toBe('bow');
        expect(r.diverged).toBe(false);
        expect(r.curve.length).toBe(2);
      }
      // Sparse AdaGrad is its dense form with zero rows, bit for bit: the same run.
      const [sparse, dense] = ['AdaGrad', 'AdaGrad (dense)'].map((n) => results.find((r) => r.optimizer === n)!);
      expect(sparse.trainNLL).toBe(dense.trainNLL);
      expect(table).toMatch(/update ms\/epoch/);
      for (const f of files) expect(fs.statSync(f).size).toBeGreaterThan(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('sparse bench output', () => {
  it('states speedup and per-row cost against their targets', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { printSparse } from './bench/sparse.mjs';
      printSparse({ rows: 1 << 20, rowSize: 64, duplicates: 0.1, results: [
        { threads: 2, touched: 1000, denseSeconds: 0.035, sparseSeconds: 0.00005, coalesceSeconds: 0.00002 }] });`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/SparseAdam 1,000 rows, 2 threads: 700x faster than dense Adam \(target: at least 500x; met\); per touched row 1\.50x/);
  });
});
