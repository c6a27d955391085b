import { logisticRegression } from './logreg';
import { multilayerPerceptron } from './mlp';
import type { Model } from './model';
import type { DashLegend } from './plot';
import { OPTIMIZERS, type OptimizerChoice, adamAblation } from './optimizers';

export const EXPERIMENT_NAMES = ['logreg', 'mlp', 'bias-correction', 'mlp-dropout', 'cnn', 'vae', 'bow'] as const;
export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];

export interface ExperimentPlan {
  name: ExperimentName;
  title: string;
  epochs: number;
  batch: number;
  pointsPerEpoch: number;
  /** Seeds the initialisation (seed) and the minibatch order (seed + 100): one start for all runs. */
  seed: number;
  model: () => Model;
  /** `plotAs`: the run's legend entry and dash value when the plot shows two settings. */
  runs: Array<{ optimizer: OptimizerChoice; lrs: number[]; plotAs?: { name: string; dash: string } }>;
  /** The plot's dash legend, when the runs differ in a second setting. */
  dash?: DashLegend;
}

export interface PlanOptions {
  full: boolean;
  /** MLP dropout probability (0: none). */
  dropout: number;
  /** Overrides every experiment's epoch count (for quick tests). */
  epochs?: number;
}

// Step sizes tried per optimizer: a grid of three around the best of a 10-epoch sweep for logistic
// regression, and for the MLP the best of a 2-epoch sweep by default (the whole grid with --full).
// The best run (lowest final training NLL) is reported, as in the paper.
const GRIDS: Record<'logreg' | 'mlp', Record<string, { quick: number[]; full: number[] }>> = {
  logreg: {
    Adam: { quick: [1e-2, 3e-2, 1e-1], full: [3e-3, 1e-2, 3e-2, 1e-1, 3e-1] },
    AdaMax: { quick: [2e-2, 6e-2, 2e-1], full: [6e-3, 2e-2, 6e-2, 2e-1, 6e-1] },
    'SGD-Nesterov': { quick: [0.3, 1, 3], full: [0.1, 0.3, 1, 3, 10] },
    AdaGrad: { quick: [0.1, 0.3, 1], full: [0.03, 0.1, 0.3, 1, 3] },
    RMSProp: { quick: [1e-2, 3e-2, 1e-1], full: [3e-3, 1e-2, 3e-2, 1e-1, 3e-1] },
  },
  mlp: {
    Adam: { quick: [3e-3], full: [1e-3, 3e-3, 1e-2] },
    AdaMax: { quick: [6e-3], full: [2e-3, 6e-3, 2e-2] },
    'SGD-Nesterov': { quick: [0.1], full: [0.03, 0.1, 0.3] },
    AdaGrad: { quick: [0.03], full: [0.01, 0.03, 0.1] },
    RMSProp: { quick: [3e-3], full: [1e-3, 3e-3, 1e-2] },
  },
};

function grid(experiment: 'logreg' | 'mlp', optimizer: OptimizerChoice, full: boolean): number[] {
  const g = GRIDS[experiment][optimizer.name];
  if (!g) throw new Error(`examples/experiments.ts: no step-size grid for ${optimizer.name} in ${experiment}`);
  return full ? g.full : g.quick;
}

/** The three experiments, sized for a 2-core machine by default and to the paper's shape with --full. */
export function plans(o: PlanOptions): ExperimentPlan[] {
  const batch = 128;
  const mlp = (seed: number) => () => multilayerPerceptron({ seed, hidden: [256, 256], batch, dropout: o.dropout });
  return [
    {
      name: 'logreg',
      title: 'Logistic regression (784-10, L2 1e-4), best step size of each optimizer',
      epochs: o.epochs ?? (o.full ? 30 : 10),
      batch,
      pointsPerEpoch: 4,
      seed: 1,
      model: () => logisticRegression({ seed: 1, l2: 1e-4, batch }),
      runs: OPTIMIZERS.map((opt) => ({ optimizer: opt, lrs: grid('logreg', opt, o.full) })),
    },
    {
      name: 'mlp',
      title: `MLP (784-256-256-10, ReLU${o.dropout > 0 ? `, dropout ${o.dropout}` : ''}), ${o.full ? 'best step size of each optimizer' : 'one step size each'}`,
      epochs: o.epochs ?? (o.full ? 20 : 2),
      batch,
      pointsPerEpoch: 8,
      seed: 2,
      model: mlp(2),
      runs: OPTIMIZERS.map((opt) => ({ optimizer: opt, lrs: grid('mlp', opt, o.full) })),
    },
    {
      name: 'bias-correction',
      title: `Adam with and without bias correction (MLP, beta1 0.9, lr ${o.full ? 'best of 3' : '0.003'})`,
      epochs: o.epochs ?? (o.full ? 10 : 1),
      batch,
      pointsPerEpoch: 16,
      seed: 3,
      model: mlp(3),
      runs: [0.99, 0.999, 0.9999].flatMap((beta2) =>
        [true, false].map((corrected) => ({
          optimizer: adamAblation(beta2, corrected),
          lrs: o.full ? [1e-3, 3e-3, 1e-2] : [3e-3],
          plotAs: { name: `beta2 ${beta2}`, dash: corrected ? 'on' : 'off' },
        })),
      ),
      dash: { title: 'bias correction', values: ['on', 'off'] },
    },
  ];
}
