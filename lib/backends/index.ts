import type { IsaName } from '../../binding';
import { checkNumber, checkOneOf } from '../validate';
import { requireCuda } from '../cuda';
import { cudaBackend } from './cuda';
import { jsBackend } from './js';
import { loadNative } from './load';
import { ISA_NAMES, type IsaOption, defaultThreads, nativeBackend, nativeGradOps, resolveIsa } from './native';
import type { Backend } from './types';

export type BackendOption = 'auto' | 'native' | 'js' | 'cuda';
export const BACKEND_OPTIONS: readonly BackendOption[] = ['auto', 'native', 'js', 'cuda'];
export const ISA_OPTIONS: readonly IsaOption[] = ['auto', ...ISA_NAMES];

let warnedFallback = false;

/**
 * Picks the backend for an optimizer; throws (naming the reason) when 'native' or 'cuda' cannot be
 * had. `deviceParam` names the first param given as DeviceTensors (they need 'cuda'), or is null.
 */
export function selectBackend(
  owner: string,
  backend: BackendOption,
  isa: IsaOption,
  threads: number,
  deviceParam: string | null = null,
): Backend {
  if (deviceParam && backend !== 'auto' && backend !== 'cuda')
    throw new TypeError(`${owner}: ${deviceParam} is on the GPU (DeviceTensor); backend '${backend}' needs Float32Arrays, use backend 'cuda'`);
  if (backend === 'cuda' || deviceParam) {
    if (isa !== 'auto') throw new RangeError(`${owner}: option 'isa' applies to the native backend, not backend 'cuda'`);
    const cuda = requireCuda(`${owner}: backend 'cuda'`);
    const binding = loadNative().binding!; // requireCuda succeeded: the addon is loaded
    return cudaBackend(binding, cuda, nativeGradOps(binding, resolveIsa(binding, 'auto'), threads));
  }
  if (backend === 'js') {
    if (isa !== 'auto') throw new RangeError(`${owner}: option 'isa' applies to the native backend, not backend 'js'`);
    return jsBackend;
  }
  const loaded = loadNative();
  if (!loaded.binding) {
    if (backend === 'native' || loaded.explicit) throw new Error(`${owner}: backend '${backend}' is unavailable: ${loaded.error}`);
    if (isa !== 'auto') throw new Error(`${owner}: option isa '${isa}' needs the native backend: ${loaded.error}`);
    if (!warnedFallback) {
      warnedFallback = true;
      process.emitWarning(`adam-native: using the TypeScript backend (${loaded.error})`, 'AdamNativeFallback');
    }
    return jsBackend;
  }
  return nativeBackend(loaded.binding, resolveIsa(loaded.binding, isa), threads, backend === 'auto');
}

export interface BackendInfo {
  /** Whether the compiled addon loaded, from where, and if not, why. */
  native: { loaded: boolean; source: 'prebuild' | 'build' | null; path: string | null; error: string | null };
  /** The ISA a native optimizer with isa 'auto' uses (ADAM_NATIVE_ISA applied), or null. */
  isa: IsaName | null;
  /** Why that ISA could not be chosen (a bad ADAM_NATIVE_ISA), or null. */
  isaError: string | null;
  /** The ISAs this CPU can run. */
  supportedIsas: IsaName[];
  /** Hardware threads: the default of the `threads` option. */
  threads: number;
}

export function backendInfo(): BackendInfo {
  const loaded = loadNative();
  const native = { loaded: !!loaded.binding, source: loaded.source, path: loaded.path, error: loaded.error };
  if (!loaded.binding) return { native, isa: null, isaError: null, supportedIsas: [], threads: defaultThreads() };
  let isa: IsaName | null = null;
  let isaError: string | null = null;
  try {
    isa = resolveIsa(loaded.binding, 'auto');
  } catch (e) {
    isaError = (e as Error).message;
  }
  return { native, isa, isaError, supportedIsas: loaded.binding.cpuInfo().supported, threads: defaultThreads() };
}

/** The options `backend`, `isa` and `threads` (see BackendOptions), checked, defaults filled in. */
export function checkBackendOptions(
  owner: string,
  opts: { backend?: unknown; isa?: unknown; threads?: unknown },
): { backend: BackendOption; isa: IsaOption; threads: number } {
  return {
    backend: opts.backend === undefined ? 'auto' : checkOneOf(`${owner}: option 'backend'`, opts.backend, BACKEND_OPTIONS),
    isa: opts.isa === undefined ? 'auto' : checkOneOf(`${owner}: option 'isa'`, opts.isa, ISA_OPTIONS),
    threads:
      opts.threads === undefined
        ? defaultThreads()
        : checkNumber(`${owner}: option 'threads'`, opts.threads, { min: 1, integer: true, below: 1025 }),
  };
}

export type { Backend } from './types';
export { defaultThreads } from './native';
