import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15_000,
    // Every core: vitest's default leaves one free, which on a 2-core CI machine means one
    // worker for a suite that is mostly CPU-bound (the fault matrix, the race rounds).
    maxWorkers: '100%',
  },
});
