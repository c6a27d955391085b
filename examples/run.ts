import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBowExperiment } from './bow-experiment';
import { type ExperimentName, plans } from './experiments';
import { loadMnist } from './mnist';
import type { BackendChoice } from './optimizers';
import { writeCurvePlot } from './plot';
import { runProgress } from './progress';
import { bestRuns, writeReports } from './report';
import { runTfjsExperiments } from './tfjs-experiments';
import { type RunResult, trainRun } from './train';

export interface DemoConfig {
  full: boolean;
  backend: BackendChoice;
  /** Output folder for results.json (with meta.json beside it), curves.csv, table.txt and the SVG plots. */
  out: string;
  experiments: readonly ExperimentName[];
  dropout: number;
  /** Training images per digit (default: all of the 80% split); a subset for quick tests. */
  trainPerDigit?: number;
  epochs?: number;
  /** Where progress goes (default stderr); bars only when it is a terminal. */
  progress?: NodeJS.WriteStream;
}

/** Runs the chosen experiments and writes every output; returns the runs and the table. */
export async function runDemo(config: DemoConfig): Promise<{ results: RunResult[]; table: string; files: string[] }> {
  const data = loadMnist(config.trainPerDigit);
  const results: RunResult[] = [];
  const files: string[] = [];
  const chosen = plans(config).filter((p) => config.experiments.includes(p.name));
  fs.mkdirSync(config.out, { recursive: true });
  for (const plan of chosen) {
    const mine: RunResult[] = [];
    const plotAs = new Map<RunResult, { name: string; dash: string } | undefined>();
    for (const run of plan.runs)
      for (const lr of run.lrs) {
        const totalSteps = Math.ceil(data.train.count / plan.batch) * plan.epochs;
        const optimizer = run.optimizer;
        const progress = runProgress(`${plan.name} ${optimizer.name} lr ${lr}`, totalSteps, config.progress);
        const result = trainRun({
          experiment: plan.name,
          optimizer,
          lr,
          epochs: plan.epochs,
          batch: plan.batch,
          model: plan.model,
          train: data.train,
          test: data.test,
          seed: plan.seed + 100,
          backend: config.backend,
          pointsPerEpoch: plan.pointsPerEpoch,
          onStep: progress.tick,
        });
        progress.done(result);
        mine.push(result);
        plotAs.set(result, run.plotAs);
      }
    const best = bestRuns(mine);
    const series = mine
      .filter((r) => best.has(r))
      .map((r) => ({
        name: plotAs.get(r)?.name ?? `${r.optimizer} (lr ${r.lr})`,
        points: r.curve,
        dash: plotAs.get(r)?.dash,
      }));
    const file = path.join(config.out, `${plan.name}.svg`);
    await writeCurvePlot(file, plan.title, series, plan.dash);
    files.push(file);
    results.push(...mine);
  }
  if (config.experiments.includes('bow')) {
    const bow = await runBowExperiment({ full: config.full, backend: config.backend, out: config.out, epochs: config.epochs });
    results.push(...bow.results);
    files.push(...bow.files);
    console.log(`\n${bow.table}`);
  }
  const tfjs = await runTfjsExperiments(config, data);
  results.push(...tfjs.results);
  files.push(...tfjs.files);
  const written = writeReports(config.out, results, config.backend);
  return { results, table: written.table, files: [...written.files, ...files] };
}
