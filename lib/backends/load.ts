import * as path from 'node:path';
import type { Binding } from '../../binding';
import { OPTIMIZERS } from '../optimizers';
import { Flag } from '../rules/flags';
import { sparseAdamRule } from '../rules/sparse-adam';
import type { Rule } from '../rules/types';

/**
 * Every rule the TypeScript layer knows, from the optimizer registry (each once, in registry
 * order), and SparseAdam's (sparse-only, so outside the registry's dense coverage); the addon must
 * agree on each one's layout. Read when called, never while modules load: the registry's classes
 * import this module through the backends.
 */
export function libRules(): ReadonlyArray<Rule<never>> {
  return [...new Set([...OPTIMIZERS.map((o) => o.rule), sparseAdamRule as Rule<never>])];
}

export interface LoadResult {
  binding: Binding | null;
  /** Where the addon came from, when it loaded. */
  path: string | null;
  source: 'prebuild' | 'build' | null;
  /** Why it did not load. */
  error: string | null;
  /** Whether ADAM_NATIVE_BINARY named the file: then a failure is an error, never a silent fallback. */
  explicit?: boolean;
}

/** An error message on one line, whole (bindings' "Tried:" list runs over several). */
function oneLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

// lib/backends or dist/backends: the package root is two levels up.
const ROOT = path.join(__dirname, '..', '..');

/** The first difference between two name lists, or null when they are equal. */
function firstDifference(what: string, addon: readonly string[], lib: readonly string[]): string | null {
  for (let i = 0; i < Math.max(addon.length, lib.length); i++)
    if (addon[i] !== lib[i])
      return `${what} ${i} is ${addon[i] === undefined ? 'missing' : `'${addon[i]}'`} in the addon and ${lib[i] === undefined ? 'missing' : `'${lib[i]}'`} in lib/`;
  return null;
}

/**
 * Why this addon does not fit lib/ (rules, their slot and scalar names in order, flag bits), or
 * null when it does: names are compared, so an addon with two scalars swapped is refused.
 */
export function checkLayout(b: Pick<Binding, 'rules' | 'flags'>): string | null {
  for (const rule of libRules()) {
    const layout = b.rules[rule.name];
    if (!layout) return `the addon has no rule '${rule.name}' (rebuild the addon)`;
    const diff =
      firstDifference('slot', layout.slots, rule.slotNames) ?? firstDifference('scalar', layout.scalars, rule.scalarNames);
    if (diff) return `the addon's rule '${rule.name}' differs from lib/: ${diff} (rebuild the addon)`;
  }
  for (const [name, bit] of Object.entries(Flag))
    if (b.flags[name as keyof typeof Flag] !== bit) return `the addon's flag '${name}' differs from lib/ (rebuild the addon)`;
  return null;
}

function tryLoad(): LoadResult {
  if (process.env.ADAM_NATIVE_DISABLE === '1')
    return { binding: null, path: null, source: null, error: 'disabled by ADAM_NATIVE_DISABLE=1' };
  const errors: string[] = [];
  const prebuild = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'adam-native.node');
  const fromPrebuild = { source: 'prebuild' as const, load: () => ({ binding: require(prebuild) as Binding, path: prebuild }) };
  const fromBuild = {
    source: 'build' as const,
    load: () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bindings = require('bindings') as (opts: { bindings: string; module_root: string; path: true }) => string;
      const found = bindings({ bindings: 'adam_native.node', module_root: ROOT, path: true });
      return { binding: require(found) as Binding, path: found };
    },
  };
  // A local build exists only where someone compiled on purpose (a checkout, or an install that
  // built from source): it wins over the shipped prebuild, which is never stale then.
  const candidates = [fromBuild, fromPrebuild];
  const forced = process.env.ADAM_NATIVE_BINARY;
  if (forced !== undefined && forced !== '') {
    const file = path.resolve(forced);
    const source = file.split(path.sep).includes('prebuilds') ? 'prebuild' : 'build';
    let loaded: { binding: Binding; path: string };
    try {
      loaded = { binding: require(file) as Binding, path: file };
    } catch (e) {
      return { binding: null, path: null, source: null, explicit: true, error: `ADAM_NATIVE_BINARY=${file} did not load: ${oneLine((e as Error).message)}` };
    }
    const mismatch = checkLayout(loaded.binding);
    if (mismatch) return { binding: null, path: null, source: null, explicit: true, error: `ADAM_NATIVE_BINARY=${file}: ${mismatch}` };
    return { binding: loaded.binding, path: file, source, error: null };
  }
  for (const c of candidates) {
    let loaded: { binding: Binding; path: string };
    try {
      loaded = c.load();
    } catch (e) {
      errors.push(`${c.source}: ${oneLine((e as Error).message)}`);
      continue;
    }
    const mismatch = checkLayout(loaded.binding);
    if (mismatch) {
      errors.push(`${c.source} (${loaded.path}): ${mismatch}`);
      continue;
    }
    return { binding: loaded.binding, path: loaded.path, source: c.source, error: null };
  }
  return { binding: null, path: null, source: null, error: `the native addon did not load: ${errors.join('; ')}` };
}

let cached: LoadResult | undefined;

/** Loads the addon once: ADAM_NATIVE_BINARY if set, else build/Release, then prebuilds/<platform>-<arch>/. */
export function loadNative(): LoadResult {
  return (cached ??= tryLoad());
}
