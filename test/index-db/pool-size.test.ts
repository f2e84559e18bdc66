// The poolSize given to Index.open is the pool's real limit: that many connections can be held
// at once, and the next caller waits.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Index } from '../../host/node/index-db/index.js';
import { tempDir } from '../store/helpers.js';

describe('Index poolSize', () => {
  for (const size of [1, 2, 6]) {
    it(`poolSize ${size}: ${size} leases at once, the next waits until one is released`, async () => {
      const t = tempDir();
      const index = await Index.open(join(t.dir, 'index.db'), { poolSize: size, acquireTimeoutMs: 0 });
      try {
        expect(index.connections.size).toBe(size);
        const leases = await Promise.all(Array.from({ length: size }, () => index.connections.acquire('hold')));
        expect(index.connections.inUse).toBe(size);
        let got = false;
        const next = index.connections.acquire('next').then((l) => {
          got = true;
          return l;
        });
        await new Promise((r) => setImmediate(r));
        expect(got).toBe(false);
        expect(index.connections.waiting).toBe(1);
        leases[0]!.release();
        const l = await next;
        expect(got).toBe(true);
        l.release();
        for (const x of leases.slice(1)) x.release();
        expect(index.connections.peakInUse).toBe(size);
      } finally {
        await index.close();
        t.cleanup();
      }
    });
  }
});
