import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../examples/mnist';
import { TFJS_EXPERIMENTS, runTfjsExperiments } from '../examples/tfjs-experiments';

// The demo's tfjs experiments in a reduced mode: one epoch on a few batches, so the whole file
// stays within a minute on 2 cores; the sizes of `npm run demo` are in examples/tfjs-experiments.ts.
describe('demo: the tfjs experiments (mlp-dropout, cnn, vae)', () => {
  it('train through adam-native/tfjs and write results and plots', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-native-tfjs-demo-'));
    const quiet = Object.assign(Object.create(process.stderr), { isTTY: false, write: () => true });
    try {
      const { results, files } = await runTfjsExperiments(
        { full: false, backend: 'auto', out, experiments: [...TFJS_EXPERIMENTS], epochs: 1, trainLimit: 128, progress: quiet },
        loadMnist(60),
      );
      expect(new Set(results.map((r) => r.experiment))).toEqual(new Set(TFJS_EXPERIMENTS));
      for (const r of results.filter((x) => x.experiment !== 'vae')) {
        expect(r.diverged).toBe(false);
        expect(r.curve.length).toBeGreaterThan(0);
        expect(r.trainNLL).toBeLessThan(10); // two minibatches with dropout: not yet below chance (2.3)
        expect(r.backend).toMatch(/^(native|js)/);
      }
      const vae = results.filter((r) => r.experiment === 'vae');
      expect(vae.filter((r) => r.optimizer.endsWith(' uncorrected')).length).toBe(vae.length / 2);
      expect(vae.some((r) => !r.diverged && r.trainNLL > 0)).toBe(true);
      for (const f of files) expect(fs.readFileSync(f, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      expect(files.map((f) => path.basename(f)).sort()).toEqual(['cnn.svg', 'mlp-dropout.svg', 'vae.svg']);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
