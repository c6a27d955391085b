import { backendInfo } from '../backends';
import { loadNative } from '../backends/load';
import { cuda } from '../cuda';
import { PARITY_SUMMARY, type ParityTarget, checkParity } from './parity';

export type Verdict = 'ok' | 'degraded' | 'fail';

export interface DoctorReport {
  lines: string[];
  verdict: Verdict;
}

/** The CUDA status in one line, and whether a device is there to check. */
function cudaStatus(): { line: string; usable: boolean } {
  if (!loadNative().binding) return { line: 'unknown (no native addon)', usable: false };
  try {
    const info = cuda.info();
    if (!info.compiled) return { line: `not in this binary: ${info.error}`, usable: false };
    if (info.deviceCount === 0) return { line: `compiled in; no device: ${info.error}`, usable: false };
    const devices = info.devices.map((d) => `${d.name} (compute ${d.computeCapability}, ${(d.memory / 2 ** 30).toFixed(1)} GiB)`);
    return { line: `compiled in; ${devices.join(', ')}`, usable: true };
  } catch (e) {
    return { line: `error: ${(e as Error).message}`, usable: false };
  }
}

/** What to do about a native addon that did not load, from the reason it gave. */
function fixFor(error: string | null): string {
  if (error?.includes('ADAM_NATIVE_DISABLE')) return 'unset ADAM_NATIVE_DISABLE.';
  if (error?.includes('ADAM_NATIVE_BINARY')) return 'point ADAM_NATIVE_BINARY at a built adam_native.node, or unset it.';
  if (error?.includes('rebuild')) return 'rebuild the addon (npm rebuild adam-native) so that it matches this version of the library.';
  return 'reinstall so a prebuild for this platform is used (npm install adam-native), or build from source: ' +
    'ADAM_NATIVE_BUILD_FROM_SOURCE=1 npm rebuild adam-native (needs cmake and a C++17 compiler).';
}

/** What `npx adam-native doctor` prints: where the addon came from, the ISAs, CUDA, and parity. */
export function doctor(): DoctorReport {
  const info = backendInfo();
  const lines: string[] = [];
  const failures: string[] = [];
  const env = process.env.ADAM_NATIVE_ISA;
  lines.push(`node:     ${process.version} ${process.platform}-${process.arch}`);
  if (info.native.loaded) lines.push(`binary:   ${info.native.source} ${info.native.path}`);
  else lines.push(`binary:   none loaded: ${info.native.error}`);
  if (info.native.loaded) {
    const why = env ? `ADAM_NATIVE_ISA=${env}` : 'the best this CPU has';
    lines.push(`isa:      ${info.isa ?? `none: ${info.isaError}`} (${why}); this CPU runs ${info.supportedIsas.join(', ')}`);
    if (info.isaError) failures.push(info.isaError);
    lines.push(`threads:  ${info.threads}`);
  }
  const cuda = cudaStatus();
  lines.push(`cuda:     ${cuda.line}`);

  const targets: ParityTarget[] = info.supportedIsas.map((isa) => ({ label: `native/${isa}`, backend: 'native', isa }));
  if (info.supportedIsas.length > 0 && info.threads > 1)
    targets.push({ label: `native/${info.supportedIsas[0]} on 1 thread`, backend: 'native', isa: info.supportedIsas[0], threads: 1 });
  if (cuda.usable) targets.push({ label: 'cuda', backend: 'cuda' });
  lines.push(`parity:   each backend against the TypeScript reference, bitwise (${PARITY_SUMMARY})`);
  for (const t of targets) {
    let problem: string | null;
    try {
      problem = checkParity(t);
    } catch (e) {
      problem = `threw: ${(e as Error).message}`;
    }
    lines.push(`  ${t.label.padEnd(26)}${problem ? `MISMATCH: ${problem}` : 'identical'}`);
    if (problem) failures.push(`${t.label}: ${problem}`);
  }
  if (targets.length === 0) lines.push('  (no native backend to compare)');

  let verdict: Verdict;
  if (failures.length > 0) {
    verdict = 'fail';
    lines.push(`verdict:  FAIL: ${failures.join('; ')}`);
  } else if (!info.native.loaded) {
    verdict = 'degraded';
    lines.push('verdict:  DEGRADED: no native addon; the TypeScript backend gives the same results, slower.');
    lines.push(`          To fix: ${fixFor(info.native.error)}`);
  } else {
    verdict = 'ok';
    lines.push(`verdict:  OK: ${targets.map((t) => t.label).join(', ')} match the TypeScript reference bit for bit`);
  }
  return { lines, verdict };
}
