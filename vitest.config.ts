import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel processes, but not more than the machine has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
