import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // 2-core CI machines: two workers, no more.
    maxWorkers: 2,
  },
});
