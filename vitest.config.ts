import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources; child processes and worker threads use
// the compiled dist/ (built by `npm ci` through `prepare`). Two workers: CI has 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Node >= 24 with better-sqlite3 12: see the file.
    setupFiles: ['test/support/retain-sqlite.ts'],
    maxWorkers: 2,
    reporters: ['default'],
  },
});
