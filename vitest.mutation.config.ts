import { defineConfig } from 'vitest/config';

// The tests `npm run test:mutation` (StrykerJS) runs against mutants: only the in-process tests of
// the mutated modules. Tests that check behaviour through child processes run the compiled dist/,
// which a mutant never reaches, so they are left out (they would only cost time).
// FORGE_MUTATION_TESTS (comma-separated globs) narrows it further, e.g. to one module's tests.
const ALL = [
  'test/errors/**/*.test.ts',
  'test/hardening/retry.test.ts',
  'test/hardening/retry-reporting.test.ts',
  'test/hardening/retry-policy.test.ts',
  'test/hardening/resources.test.ts',
  'test/hardening/keyed-locks.test.ts',
  'test/hardening/shutdown.test.ts',
  'test/hardening/shutdown-detail.test.ts',
  'test/io/resources.test.ts',
  'test/store/concurrency.test.ts',
  'test/store/corruption.test.ts',
  'test/store/read-path.test.ts',
  'test/store/roundtrip.test.ts',
  'test/store/write-commit.test.ts',
  'test/store/write-compress.test.ts',
  'test/store/gc.test.ts',
  'test/store/chunking.test.ts',
  'test/index-db/pool.test.ts',
  'test/index-db/pool-lifecycle.test.ts',
  'test/index-db/index.test.ts',
];

// Child-process tests inside the files above (they run dist/, and a user other than root cannot even
// read Stryker's sandbox): left out by name.
const CHILD_PROCESS_TESTS = ['as nobody, a read-only pool'];

export default defineConfig({
  test: {
    testNamePattern: new RegExp(`^(?!.*(?:${CHILD_PROCESS_TESTS.join('|')}))`),
    include: process.env.FORGE_MUTATION_TESTS ? process.env.FORGE_MUTATION_TESTS.split(',') : ALL,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
