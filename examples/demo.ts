// `npm run demo`: the paper's MNIST experiments with this library's optimizers.
import * as path from 'node:path';
import { backendInfo } from 'adam-native';
import { EXPERIMENT_NAMES, type ExperimentName } from './experiments';
import type { BackendChoice } from './optimizers';
import { runCompactDemo } from './compact';
import { type DemoConfig, runDemo } from './run';

const USAGE = `usage: npm run demo -- [--full] [--backend auto|js|native] [--only ${EXPERIMENT_NAMES.join(',')}]
                       [--dropout p] [--out dir] [--compact]
  --full      the whole step-size grid and more epochs (tens of minutes on 2 cores)
  --backend   which optimizer backend to use (default auto: native when the addon is built)
  --only      a comma-separated subset of the experiments (cnn runs only when named here)
  --dropout   MLP dropout probability in [0, 1) (default 0)
  --out       output folder (default demo-out)
  --compact   instead: Adam with fp32, bf16 and int8 state, and bf16 params (master, stochastic rounding), on logreg and the MLP (final training NLL)`;

function parseArgs(argv: string[]): DemoConfig {
  // The CNN trains on tfjs's plain-JS 'cpu' backend (wasm has no conv gradient): minutes per epoch
  // on 2 cores, so it runs only when asked for (--only cnn).
  const config: DemoConfig = { full: false, backend: 'auto', out: 'demo-out', experiments: EXPERIMENT_NAMES.filter((n) => n !== 'cnn'), dropout: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--full') config.full = true;
    else if (arg === '--backend') {
      const b = value();
      if (b !== 'auto' && b !== 'js' && b !== 'native') throw new Error(`--backend must be auto, js or native, got '${b}'`);
      config.backend = b as BackendChoice;
    } else if (arg === '--only') {
      const names = value().split(',');
      for (const n of names)
        if (!(EXPERIMENT_NAMES as readonly string[]).includes(n)) throw new Error(`--only: unknown experiment '${n}'`);
      config.experiments = names as ExperimentName[];
    } else if (arg === '--dropout') {
      const p = Number(value());
      if (!(p >= 0 && p < 1)) throw new Error(`--dropout must be in [0, 1), got '${argv[i]}'`);
      config.dropout = p;
    } else if (arg === '--out') config.out = value();
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument '${arg}'`);
  }
  return config;
}

async function main(): Promise<void> {
  let config: DemoConfig;
  try {
    config = parseArgs(process.argv.slice(2).filter((a) => a !== '--compact'));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const info = backendInfo();
  const backend = config.backend === 'js' || !info.native.loaded ? 'js' : `native/${info.isa}`;
  console.error(`adam-native demo: ${config.full ? 'full' : 'default'} run, backend ${backend}, experiments ${config.experiments.join(', ')}`);
  const started = performance.now();
  if (process.argv.includes('--compact')) {
    console.log(`\n${runCompactDemo(config.backend)}\n`);
    console.error(`total ${((performance.now() - started) / 1000).toFixed(1)}s`);
    return;
  }
  const { table, files } = await runDemo(config);
  console.log(`\n${table}\n`);
  console.log(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  console.error(`total ${((performance.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
