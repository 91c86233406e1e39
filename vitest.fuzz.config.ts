import { defineConfig } from 'vitest/config';

/** The differential fuzzers (test/fuzz): bounded runs whose outcome is a report, kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    testTimeout: 900_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup/fail-on-warning.ts'],
  },
});
