import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The examples import the library by its package name; tests run them against the sources.
  resolve: {
    alias: [
      { find: /^adam-native\/tfjs$/, replacement: fileURLToPath(new URL('./lib/tfjs/index.ts', import.meta.url)) },
      { find: /^adam-native$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // 2-core CI machines: two workers, no more.
    maxWorkers: 2,
    // After the usual output: how many tests were skipped, and why.
    reporters: ['default', './test/skip-summary.ts'],
  },
});
