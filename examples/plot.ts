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
 * The vega-lite spec of the plot. Series whose curves coincide (bias correction on: every beta2
 * gives nearly the same curve) stay distinguishable: each series is drawn at its own width, the
 * first widest, so lines on top of each other show as nested outlines. The log-scale y axis drops
 * labels that would overlap (they crowd near 1).
 */
export function curveSpec(title: string, series: Series[], dash?: DashLegend) {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, dash: s.dash ?? '', epoch: p.epoch, nll: p.nll })));
  const names = [...new Set(series.map((s) => s.name))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 320,
    background: 'white',
    config: { legend: { labelLimit: 320 } },
    data: { values },
    mark: { type: 'line' as const, clip: true, opacity: 0.9 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch' },
      y: {
        field: 'nll',
        type: 'quantitative' as const,
        title: 'training NLL (minibatch mean)',
        scale: { type: 'log' as const, nice: false },
        axis: { labelOverlap: 'greedy' as const, labelSeparation: 4, format: '~g' },
      },
      color: { field: 'series', type: 'nominal' as const, title: null, sort: names },
      strokeWidth: {
        field: 'series',
        type: 'nominal' as const,
        sort: names,
        legend: null,
        scale: { domain: names, range: names.map((_, i) => (names.length === 1 ? 1.6 : 1.4 + (2.6 * (names.length - 1 - i)) / (names.length - 1))) },
      },
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
}

/**
 * Training NLL against epoch, one line per series, as an SVG file. vega-lite compiles the chart and
 * vega renders it headless (no browser, no canvas, no network).
 */
export async function writeCurvePlot(file: string, title: string, series: Series[], dash?: DashLegend): Promise<void> {
  // Both packages are ES modules; this file is CommonJS, so they come in through import().
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(curveSpec(title, series, dash)).spec), { renderer: 'none' });
  try {
    fs.writeFileSync(file, await view.toSVG());
  } finally {
    view.finalize();
  }
}
