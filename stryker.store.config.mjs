// Mutation runs for the store's read and write paths, one module per run:
//   FORGE_MUTATION_NAME=read nice -n 10 npx stryker run stryker.store.config.mjs --mutate host/node/store/read.ts
// Same settings as stryker.config.mjs, but with only the store tests (vitest.mutation.store.config.ts) and a
// shorter per-mutant timeout: a mutant that makes a put or a get hang (a lock never released, a commit
// never settled) should cost seconds, not minutes.
import base from './stryker.config.mjs';

const name = process.env.FORGE_MUTATION_NAME ?? 'store';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.store.config.ts' },
  concurrency: 2,
  timeoutMS: 5_000,
  mutate: ['host/node/store/read.ts', 'host/node/store/write.ts'],
  // event-recorder writes every tested mutant as it is done (reports/mutation/<name>-events/*-onMutantTested.json),
  // so a run stopped early still says which mutants survived so far.
  reporters: [...base.reporters, 'event-recorder'],
  eventReporter: { baseDir: `reports/mutation/${name}-events` },
};
