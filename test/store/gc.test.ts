import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { utimesSync, writeFileSync } from 'node:fs';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { decodeManifest } from '../../host/node/store/chunking.js';
import { HASHERS, sha256Hex, tempDir } from './helpers.js';

describe.each(HASHERS)('gc (hasher %s)', (hasher) => {
  it('removes what keep does not reach and keeps the chunks of kept chunked content', async () => {
    const t = tempDir('forge-gc-');
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, chunkThreshold: 4096, cdc: { min: 256, avg: 1024, max: 4096 } });
    try {
      const a = await store.put(randomBytes(100)).then((r) => r.hash);
      const b = await store.put(randomBytes(200)).then((r) => r.hash);
      const cData = randomBytes(30_000);
      const c = await store.putMany([cData]);
      const cr = c[0] as { hash: string; manifest: string };
      const dData = randomBytes(30_000);
      const d = (await store.putMany([dData]))[0] as { hash: string; manifest: string };
      const dChunks = decodeManifest(await store.get(d.manifest)).chunks.map((x) => x.hash);
      writeFileSync(`${t.dir}/objects/tmp/old-leftover`, 'x');
      utimesSync(`${t.dir}/objects/tmp/old-leftover`, new Date(0), new Date(0));

      const report = await store.gc({ keep: [a, cr.hash], minAgeMs: 0 });
      expect(report.removedHashes).toContain(b);
      expect(report.removedHashes).toContain(d.manifest);
      for (const h of dChunks) expect(report.removedHashes).toContain(h);
      expect(report.manifestRefsRemoved).toBe(1);
      expect(report.tmpRemoved).toBe(1);
      expect(await store.has(b)).toBe(false);
      expect(await store.has(d.hash)).toBe(false);
      expect(await store.has(a)).toBe(true);
      expect(Buffer.from(await store.get(cr.hash)).equals(cData)).toBe(true);
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('keeps objects younger than minAgeMs and removes older ones', async () => {
    const t = tempDir('forge-gc-');
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0 });
    try {
      const young = await store.put(randomBytes(10)).then((r) => r.hash);
      const old = await store.put(randomBytes(10)).then((r) => r.hash);
      utimesSync(objectPath(t.dir, old), new Date(0), new Date(0));
      const dry = await store.gc({ keep: [], minAgeMs: 60_000, dryRun: true });
      expect(dry.removedHashes).toEqual([old]);
      expect(await store.has(old)).toBe(true);
      const r = await store.gc({ keep: [], minAgeMs: 60_000 });
      expect(r.removedHashes).toEqual([old]);
      expect(r.skipped).toBe(1);
      expect(await store.has(young)).toBe(true);
      // A put that finds the object intact refreshes its mtime, so another process's gc keeps it.
      utimesSync(objectPath(t.dir, young), new Date(0), new Date(0));
      await store.put((await store.get(young)) as Uint8Array).then((r) => r.hash);
      expect((await store.gc({ keep: [], minAgeMs: 60_000 })).removed).toBe(0);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('does not race concurrent puts: everything put while gc runs survives it', async () => {
    const t = tempDir('forge-gc-');
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0 });
    try {
      for (let round = 0; round < 2; round++) {
        const old = Array.from({ length: 150 }, () => randomBytes(64));
        await store.putMany(old);
        const gc = store.gc({ keep: [], minAgeMs: 0 });
        // Re-put existing content (the dangerous dedup path) and new content while gc runs.
        const again = old.filter((_, i) => i % 3 === 0);
        const fresh = Array.from({ length: 30 }, () => randomBytes(64));
        // Spread the puts over the gc's walk (gc yields to the event loop every 32 entries).
        const puts = [...again, ...fresh].map(async (d, i) => {
          for (let k = 0; k < i % 12; k++) await new Promise((r) => setImmediate(r));
          return store.put(d).then((r) => r.hash);
        });
        const [hashes] = await Promise.all([Promise.all(puts), gc]);
        for (const h of hashes) {
          expect(await store.has(h)).toBe(true);
          expect(sha256Hex(await store.get(h))).toBe(h);
        }
        await store.gc({ keep: [], minAgeMs: 0 });
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
