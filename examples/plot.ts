import * as fs from 'node:fs';
import type { CurvePoint } from './train';

export interface Series {
  /** The legend entry, one colour each. */
  name: string;
  points: CurvePoint[];
  /** A second setting, drawn as the line's dash pattern (e.g. bias correction on/off). */
  dash?: string;
}

/** The dash legend: its title and its values, the first drawn solid. */
export interface DashLegend {
  title: string;
  values: string[];
}

/**
 * Training NLL against epoch, one line per series, as an SVG file. vega-lite compiles the chart and
 * vega renders it headless (no browser, no canvas, no network).
 */
export async function writeCurvePlot(file: string, title: string, series: Series[], dash?: DashLegend): Promise<void> {
  // Both packages are ES modules; this file is CommonJS, so they come in through import().
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, dash: s.dash ?? '', epoch: p.epoch, nll: p.nll })));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 320,
    background: 'white',
    config: { legend: { labelLimit: 320 } },
    data: { values },
    mark: { type: 'line' as const, strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch' },
      y: { field: 'nll', type: 'quantitative' as const, title: 'training NLL (minibatch mean)', scale: { type: 'log' as const, nice: false } },
      color: { field: 'series', type: 'nominal' as const, title: null, sort: [...new Set(series.map((s) => s.name))] },
      ...(dash
        ? {
            strokeDash: {
              field: 'dash',
              type: 'nominal' as const,
              title: dash.title,
              scale: { domain: dash.values, range: [[1, 0], [6, 4], [2, 2]].slice(0, dash.values.length) },
            },
          }
        : {}),
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    fs.writeFileSync(file, await view.toSVG());
  } finally {
    view.finalize();
  }
}
