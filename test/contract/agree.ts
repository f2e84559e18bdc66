// Shared harness for "the direct loader and the jco bindings agree" property tests.
//
// Both sides expose each interface of world core with the SAME shape (the type `jco types`
// generates from wit/forge.wit): the loader through `bindings(core)` of host/node/core/<iface>.ts,
// jco through gen/jco/forge-core.js. A case runs the same function of both APIs on generated
// input and the results must be deep-equal (a thrown error counts as a result: its payload, or
// its message when it has none).
//
// To cover a new WIT function, add a case with `agree(iface, name, arbitrary, run)` in a
// test/contract/agree-<iface>.test.ts file; `coverage.test.ts` lists WIT functions without one.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { loadCore } from '../../host/node/core/loader.js';
import * as jcoCore from '../../gen/jco/forge-core.js';

/** The four interface APIs of world core, as the generated types describe them. */
export type CoreApis = typeof jcoCore;
export type IfaceName = 'checksum' | 'codec' | 'chunker' | 'events';

/** WIT functions (kebab-case, `iface#fn`) covered by an agree() case in this run. */
export const covered = new Set<string>();

/** The direct loader's APIs, on one fresh instance per test file. */
export async function directApis(): Promise<CoreApis> {
  const core = loadCore();
  const [checksum, codec, chunker, events] = await Promise.all([
    import('../../host/node/core/checksum.js'),
    import('../../host/node/core/codec.js'),
    import('../../host/node/core/chunker.js'),
    import('../../host/node/core/events.js'),
  ]);
  return {
    checksum: checksum.bindings(core),
    codec: codec.bindings(core),
    chunker: chunker.bindings(core),
    events: events.bindings(core),
  } as unknown as CoreApis;
}

/** The jco-transpiled bindings (gen/jco). */
export const jcoApis: CoreApis = jcoCore;

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    const err = e as { payload?: unknown; message?: string };
    return { err: err.payload !== undefined ? err.payload : String(err.message) };
  }
}

/**
 * Property: `run(api, input)` gives the same outcome on the direct loader and on jco, for
 * `numRuns` (>= 100) generated inputs. `fns` are the WIT functions (kebab-case) the case covers.
 */
export function agree<T>(iface: IfaceName, fns: string[], arbitrary: fc.Arbitrary<T>, run: (api: CoreApis, input: T) => unknown, numRuns = 100): void {
  for (const fn of fns) covered.add(`${iface}#${fn}`);
  it(`direct loader = jco bindings: ${iface} ${fns.join(', ')} (${numRuns} runs)`, async () => {
    const direct = await directApis();
    fc.assert(
      fc.property(arbitrary, (input) => {
        expect(outcome(() => run(direct, input))).toEqual(outcome(() => run(jcoApis, input)));
      }),
      { numRuns },
    );
  });
}
