import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs CommonJS `code` in a fresh node (with --expose-gc) against the compiled package (dist/,
 * built by pretest), so that a crash fails the one test that caused it, not the run. The
 * environment is inherited (a sanitizer preload stays), plus `env`.
 */
export function runChild(
  code: string,
  opts: { env?: NodeJS.ProcessEnv; timeout?: number; wrap?: string[] } = {},
): ChildResult {
  const args = ['--expose-gc', '-e', code];
  const [cmd, ...pre] = opts.wrap ?? [];
  const r = spawnSync(cmd ?? process.execPath, cmd ? [...pre, process.execPath, ...args] : args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A readable summary for an assertion message: how it ended and the tail of its output. */
export function describeChild(r: ChildResult): string {
  return `exit ${r.status ?? r.signal}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** Asserts the child ended cleanly with `last` as the last line of stdout. */
export function expectClean(r: ChildResult, last = 'ok'): void {
  const lines = r.stdout.trim().split('\n');
  if (r.status !== 0 || lines[lines.length - 1] !== last) throw new Error(`child failed: ${describeChild(r)}`);
}
