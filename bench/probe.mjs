// The roof: the addon's stream probe (reads 4 float arrays, writes 3: Adam's traffic) on the same
// chunks and pool as a step, with the ISA the optimizers use.
import { createRequire } from 'node:module';
import { backendInfo } from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const { loadNative } = require('../dist/backends/load.js');

export const PROBE_BYTES = 28; // per element: 4 reads + 3 writes of 4 bytes

/**
 * A function that runs one probe pass on `threads` threads over `arrays`: [p, g, m, v] per tensor
 * (layouts.mjs), registered once as an optimizer's plan registers its tensors.
 */
export function makeProbe(arrays, threads) {
  const binding = loadNative().binding;
  if (!binding) throw new Error(`the bench needs the native addon: ${loadNative().error}`);
  const probe = new binding.StreamProbe(binding.isas.indexOf(backendInfo().isa), arrays, threads);
  // The probe holds its arrays weakly, as a plan does (its optimizer keeps them): here the closure does.
  return () => probe.run(arrays);
}
