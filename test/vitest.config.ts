import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // End-to-end runs start real processes: one file at a time on a 2-core machine.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
