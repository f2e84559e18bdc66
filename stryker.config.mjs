// Mutation testing (`npm run test:mutation`): StrykerJS mutates the modules below and runs, per
// mutant, only the tests that cover it (coverageAnalysis perTest) from vitest.mutation.config.ts.
// One module at a time: `npm run test:mutation -- --mutate host/node/base/retry.ts`.
// Scores and the surviving mutants are recorded in docs/mutation-testing.md.
// FORGE_MUTATION_NAME names the report and the sandbox, so runs for different modules can overlap.
const name = process.env.FORGE_MUTATION_NAME ?? 'mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  // Two busy cores: one or two test processes at a time.
  concurrency: 2,
  // Static mutants (module-level constants) need a full re-run each; they are listed, not run.
  ignoreStatic: true,
  // Added to each mutant's expected time (its tests' time x 1.5): a mutant that sleeps far longer is a timeout (counted as killed).
  timeoutMS: 10_000,
  mutate: [
    'host/node/base/errors.ts',
    'host/node/base/retry.ts',
    'host/node/base/resources.ts',
    'host/node/runtime/shutdown.ts',
    'host/node/store/keyed-locks.ts',
    'host/node/store/read.ts',
    'host/node/store/write.ts',
    'host/node/index-db/pool.ts',
  ],
  ignorePatterns: ['bench', 'reports', '.stryker-tmp', 'test/fixtures/hardening/*.log'],
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  tempDirName: `.stryker-tmp/${name}`,
  cleanTempDir: 'always',
};
