import { Adam, type StateDtype } from 'adam-native';
import { plans } from './experiments';
import { loadMnist } from './mnist';
import type { BackendChoice, OptimizerChoice } from './optimizers';
import { trainRun } from './train';

/**
 * `npm run demo -- --compact`: logistic regression and the MLP trained with Adam keeping its
 * moments in fp32, bf16 and int8 (lib/compact), from the same start and minibatch order; prints the
 * final training NLL of each and its difference from fp32.
 */
export function runCompactDemo(backend: BackendChoice, epochs?: number): string {
  const data = loadMnist();
  const lines = ['| experiment | state | train NLL | vs fp32 | test accuracy |', '|---|---|---|---|---|'];
  for (const plan of plans({ full: false, dropout: 0, epochs }).filter((p) => p.name === 'logreg' || p.name === 'mlp')) {
    const lr = plan.name === 'logreg' ? 1e-2 : 3e-3;
    let fp32 = NaN;
    for (const stateDtype of ['fp32', 'bf16', 'int8'] as StateDtype[]) {
      const optimizer: OptimizerChoice = { name: `Adam ${stateDtype}`, make: (p, l, b) => new Adam(p, { lr: l, backend: b, stateDtype }) };
      const r = trainRun({ experiment: plan.name, optimizer, lr, epochs: plan.epochs, batch: plan.batch, model: plan.model, train: data.train, test: data.test, seed: plan.seed + 100, backend, pointsPerEpoch: 1 });
      if (stateDtype === 'fp32') fp32 = r.trainNLL;
      const rel = stateDtype === 'fp32' ? '' : `${(((r.trainNLL - fp32) / fp32) * 100).toFixed(2)}%`;
      lines.push(`| ${plan.name} (${plan.epochs} epochs, lr ${lr}) | ${stateDtype} | ${r.trainNLL.toFixed(5)} | ${rel} | ${(r.testAccuracy * 100).toFixed(2)}% |`);
      process.stderr.write(`  ${plan.name} ${stateDtype}: ${r.trainNLL.toFixed(5)}\n`);
    }
  }
  return lines.join('\n');
}
