// Property: the direct loader and the jco bindings agree on interface chunker.
import fc from 'fast-check';
import { describe } from 'vitest';
import { agree } from './agree.js';

describe('contract: chunker', () => {
  agree(
    'chunker',
    ['cut-points'],
    fc.tuple(fc.uint8Array({ maxLength: 100_000 }), fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 8192 }), fc.integer({ min: 0, max: 20_000 })),
    (api, [data, minSize, avgSize, maxSize]) => api.chunker.cutPoints(data, { minSize, avgSize, maxSize }),
  );
});
