import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';

// The exported types as a strict-mode user sees them: test/types/usage.ts must compile, and each of
// its `@ts-expect-error` lines must be an error (tsc reports an unused one).
it('tsc --strict accepts the typed usage file and rejects its marked mistakes', () => {
  const root = path.join(__dirname, '..');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '--strict', '--noEmit', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node', '--skipLibCheck', 'test/types/usage.ts'],
    { cwd: root, encoding: 'utf8' },
  );
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 60_000);
