// Property: the direct loader and the jco bindings agree on interface events.
import fc from 'fast-check';
import { describe } from 'vitest';
import { agree } from './agree.js';

const kind = fc.constantFrom('created', 'modified', 'removed', 'renamed', 'overflow') as fc.Arbitrary<
  'created' | 'modified' | 'removed' | 'renamed' | 'overflow'
>;
const path = fc.oneof(fc.constantFrom('a', 'b', 'dir/c', ''), fc.string({ maxLength: 12 }));
const change = fc.record({ path, kind, oldPath: fc.option(path, { nil: undefined }) });

describe('contract: events', () => {
  agree(
    'events',
    ['coalescer-new', 'coalescer-push', 'coalescer-drain', 'coalescer-flush', 'coalescer-free'],
    fc.tuple(fc.integer({ min: 0, max: 100 }), fc.array(fc.tuple(fc.array(change, { maxLength: 6 }), fc.integer({ min: 0, max: 80 })), { maxLength: 12 })),
    (api, [windowMs, steps]) => {
      const c = api.events.coalescerNew(windowMs);
      const out: unknown[] = [];
      let t = 0n;
      for (const [changes, dt] of steps) {
        t += BigInt(dt);
        api.events.coalescerPush(c, changes, t);
        out.push(api.events.coalescerDrain(c, t));
      }
      out.push(api.events.coalescerFlush(c));
      api.events.coalescerFree(c);
      return out;
    },
  );
});
