import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Real sockets and child processes: a small pool keeps a 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/setup/fail-on-warning.ts'],
  },
});
