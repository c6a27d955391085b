// `npm run demo` (experiment bow): every optimizer of BOW_OPTIMIZERS over its step-size grid on
// the SpamAssassin bag of words; the curves of each one's best run, and the update-time table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BowResult, BOW_GRIDS, BOW_OPTIMIZERS, trainBow } from './bow';
import { loadBow } from './bow-data';
import type { BackendChoice } from './optimizers';
import { writeCurvePlot } from './plot';
import { bestRuns } from './report';

export interface BowConfig {
  full: boolean;
  backend: BackendChoice;
  out: string;
  /** Quick tests: fewer e-mails per split, fewer epochs, one step size each. */
  limit?: number;
  epochs?: number;
  onRun?: (r: BowResult) => void;
}

export const BOW_TITLE = 'Logistic regression on 10,000-token bag of words (SpamAssassin e-mail, 50% input dropout)';

/** The update-time table: per optimizer, its path and its best run's optimizer time per epoch. */
export function formatUpdateTable(results: BowResult[]): string {
  const best = bestRuns(results);
  const lines = ['optimizer          path     update ms/epoch  train NLL  test acc'];
  for (const r of results.filter((x) => best.has(x)))
    lines.push(
      `${r.optimizer.padEnd(18)} ${r.update.path.padEnd(7)} ${r.update.msPerEpoch.toFixed(2).padStart(16)} ${r.trainNLL.toFixed(4).padStart(10)} ${(100 * r.testAccuracy).toFixed(2).padStart(8)}%`,
    );
  return lines.join('\n');
}

export async function runBowExperiment(config: BowConfig): Promise<{ results: BowResult[]; files: string[]; table: string }> {
  const data = loadBow(10000, config.limit);
  const epochs = config.epochs ?? (config.full ? 50 : 10);
  const results: BowResult[] = [];
  for (const optimizer of BOW_OPTIMIZERS)
    for (const lr of config.limit ? BOW_GRIDS[optimizer.name].slice(1, 2) : BOW_GRIDS[optimizer.name]) {
      const r = trainBow({ optimizer, lr, epochs, batch: 128, dropout: 0.5, data, backend: config.backend, seed: 1 });
      config.onRun?.(r);
      results.push(r);
    }
  const best = bestRuns(results);
  const series = results.filter((r) => best.has(r)).map((r) => ({ name: `${r.optimizer} (lr ${r.lr})`, points: r.curve }));
  fs.mkdirSync(config.out, { recursive: true });
  const plot = path.join(config.out, 'bow.svg');
  await writeCurvePlot(plot, BOW_TITLE, series);
  const table = formatUpdateTable(results);
  const text = path.join(config.out, 'bow.txt');
  fs.writeFileSync(text, `${BOW_TITLE}; ${data.train.count} training and ${data.test.count} test e-mails, ${epochs} epochs\n${table}\n`);
  return { results, files: [plot, text], table };
}
