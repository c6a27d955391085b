import * as fs from 'node:fs';
import type { RunResult } from './train';

/**
 * The paper's Figure 4 layout: final loss against step size (log scale), one panel per optimizer
 * setting, bias correction on and off as two lines. A run's setting is its optimizer name without
 * " uncorrected"; diverged runs are left out of their line.
 */
export async function writeGridPlot(file: string, title: string, runs: RunResult[]): Promise<void> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const values = runs
    .filter((r) => !r.diverged)
    .map((r) => ({
      setting: r.optimizer.replace(/ uncorrected$/, ''),
      correction: r.optimizer.endsWith(' uncorrected') ? 'off' : 'on',
      lr: r.lr,
      loss: r.trainNLL,
    }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    data: { values },
    facet: { field: 'setting', type: 'nominal' as const, title: null },
    columns: 3,
    spec: {
      width: 200,
      height: 160,
      mark: { type: 'line' as const, point: true, strokeWidth: 1.6 },
      encoding: {
        x: { field: 'lr', type: 'quantitative' as const, title: 'step size', scale: { type: 'log' as const } },
        y: { field: 'loss', type: 'quantitative' as const, title: 'loss (negative ELBO)', scale: { zero: false } },
        color: { field: 'correction', type: 'nominal' as const, title: 'bias correction', sort: ['on', 'off'] },
      },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  try {
    fs.writeFileSync(file, await view.toSVG());
  } finally {
    view.finalize();
  }
}
