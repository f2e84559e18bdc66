import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { createFallbackBackend } from '../../host/node/io/fallback-backend.js';
import type { PlatformIO, WriteOp, WriteResult } from '../../host/node/base/platform-io.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { sha256Hex, tempDir, withStore } from './helpers.js';

/** A real (node:fs) backend whose batchWrite calls are recorded, and can fail chosen paths. */
function recordingIo(failIf: (op: WriteOp) => boolean = () => false): { io: PlatformIO; batches: WriteOp[][] } {
  const inner = createFallbackBackend();
  const batches: WriteOp[][] = [];
  const io: PlatformIO = {
    backend: inner.backend,
    read: (p, o, l) => inner.read(p, o, l),
    write: (p, d, o) => inner.write(p, d, o),
    readAll: (p) => inner.readAll(p),
    writeAll: (p, d, o) => inner.writeAll(p, d, o),
    batchRead: (ps) => inner.batchRead(ps),
    async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
      batches.push([...ops]);
      const ok = ops.filter((op) => !failIf(op));
      const results = await inner.batchWrite(ok);
      let k = 0;
      return ops.map((op) =>
        failIf(op)
          ? { ok: false, error: new ForgeError('filesystem', `injected write failure for ${op.path}`, { context: { file: op.path, code: 'EIO' } }) }
          : results[k++]!,
      );
    },
    watch: (root, o) => inner.watch(root, o),
    close: () => inner.close(),
  };
  return { io, batches };
}

const tmpEntries = (dir: string): string[] => readdirSync(join(dir, 'objects', 'tmp'));

describe('group commit', () => {
  it('puts issued in one turn share one batch, and each resolves with its own hash', async () => {
    const t = tempDir();
    const { io, batches } = recordingIo();
    const store = await BlobStore.open(t.dir, { io, sync: true, workers: 0 });
    try {
      const contents = Array.from({ length: 16 }, (_, i) => randomBytes(100 + i * 37));
      const hashes = await Promise.all(contents.map((c) => store.put(c).then((r) => r.hash)));
      expect(hashes).toEqual(contents.map((c) => sha256Hex(c)));
      expect(batches.length).toBe(1);
      expect(batches[0]!.length).toBe(16);
      // Each file fsynced by its op, unless the batch is flushed by syncfs (ext4/xfs/btrfs: batch-flush.test.ts).
      const fileSync = store.flush.mode !== 'syncfs';
      expect(batches[0]!.every((op) => op.sync === fileSync)).toBe(true);
      for (let i = 0; i < contents.length; i++) expect(Buffer.from(await store.get(hashes[i]!)).equals(contents[i]!)).toBe(true);
      // Objects are read-only, whichever path wrote them (batchWrite itself creates files 0644).
      for (const h of hashes) expect(statSync(objectPath(t.dir, h)).mode & 0o777).toBe(0o400);
      expect(tmpEntries(t.dir)).toEqual([]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('puts issued while a synced batch is in flight gather into the next batch', async () => {
    const t = tempDir();
    const { io, batches } = recordingIo();
    const store = await BlobStore.open(t.dir, { io, sync: true, workers: 0 });
    try {
      const first = store.put(randomBytes(64)).then((r) => r.hash);
      // Let the first batch start (it waits for its fsync), then issue eight more puts over several turns.
      await new Promise((r) => setImmediate(r));
      const later: Array<Promise<string>> = [];
      for (let i = 0; i < 8; i++) {
        later.push(store.put(randomBytes(64)).then((r) => r.hash));
        if (i % 2 === 1) await Promise.resolve();
      }
      await Promise.all([first, ...later]);
      expect(batches.map((b) => b.length).reduce((a, b) => a + b, 0)).toBe(9);
      // However the turns fell, nine puts never took nine batches.
      expect(batches.length).toBeLessThan(9);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('a failed write fails its own put only; the others of the batch are stored, and nothing is left behind', async () => {
    const t = tempDir();
    const contents = Array.from({ length: 8 }, () => randomBytes(500));
    const victim = sha256Hex(contents[3]!);
    const { io, batches } = recordingIo((op) => op.path.includes(`${victim.slice(0, 12)}-`));
    const store = await BlobStore.open(t.dir, { io, sync: true, workers: 0 });
    try {
      const settled = await Promise.allSettled(contents.map((c) => store.put(c).then((r) => r.hash)));
      expect(batches.length).toBe(1);
      settled.forEach((s, i) => {
        if (i === 3) {
          expect(s.status).toBe('rejected');
          const err = (s as PromiseRejectedResult).reason as ForgeError;
          expect(err).toBeInstanceOf(ForgeError);
          expect(err.message).toContain('injected write failure');
        } else {
          expect(s).toEqual({ status: 'fulfilled', value: sha256Hex(contents[i]!) });
        }
      });
      expect(existsSync(objectPath(t.dir, victim))).toBe(false);
      for (let i = 0; i < contents.length; i++) if (i !== 3) expect(existsSync(objectPath(t.dir, sha256Hex(contents[i]!)))).toBe(true);
      expect(tmpEntries(t.dir)).toEqual([]);
      // putMany reports the failure in its slot and stores the rest.
      const more = [randomBytes(50), contents[3]!, randomBytes(50)];
      const results = await store.putMany(more);
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('Property: concurrent puts and putMany calls of random contents (with repeats) all store what they say, once each', async () => {
    await withStore({ sync: false, workers: 0, chunkThreshold: 4096, cdc: { min: 256, avg: 1024, max: 2048 } }, async (store, dir) => {
      const pool = fc.array(fc.uint8Array({ minLength: 0, maxLength: 6000 }), { minLength: 1, maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(pool, fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 12 }), async (blobs, picks) => {
          const jobs = picks.map(async ([k, many]) => {
            const data = blobs[k % blobs.length]!;
            if (!many) return { data, hash: await store.put(data).then((r) => r.hash), stored: -1 };
            const [r] = await store.putMany([data]);
            if (!r!.ok) throw r!.error;
            return { data, hash: r!.hash, stored: r!.storedBytes };
          });
          const done = await Promise.all(jobs);
          for (const { data, hash } of done) {
            expect(hash).toBe(sha256Hex(data));
            expect(Buffer.from(await store.get(hash)).equals(Buffer.from(data))).toBe(true);
          }
          expect(tmpEntries(dir)).toEqual([]);
        }),
        { numRuns: 100 },
      );
      expect((await store.verify()).ok).toBe(true);
    });
  });

  it('putMany counts the bytes of a repeated item once', async () => {
    await withStore({ sync: false, workers: 0 }, async (store, dir) => {
      const a = randomBytes(3000);
      const b = randomBytes(2000);
      const results = await store.putMany([a, b, a, a]);
      const stored = results.map((r) => (r.ok ? r.storedBytes : -1));
      expect(stored[0]).toBeGreaterThan(0);
      expect(stored[1]).toBeGreaterThan(0);
      expect(stored.slice(2)).toEqual([0, 0]);
      expect(stored[0]).toBe(statSync(objectPath(dir, sha256Hex(a))).size);
    });
  });
});

describe('event loop during synced puts', () => {
  it.each([
    ['node:fs (fsync on the threadpool)', false as const],
    ['the default backend (io_uring where available)', undefined],
  ])('a setImmediate queued after a synced put starts runs before the put resolves: %s', async (_label, io) => {
    await withStore({ sync: true, workers: 0, ...(io === false ? { io } : {}) }, async (store) => {
      // Warm up (fan-out directories, backend), so the ordering below concerns one plain put.
      await store.put(randomBytes(10)).then((r) => r.hash);
      for (const size of [100, 5000, 300_000]) {
        const order: string[] = [];
        const put = store
          .put(randomBytes(size))
          .then((r) => r.hash)
          .then(() => order.push('put'));
        setImmediate(() => order.push('immediate'));
        await put;
        // Synchronous fsync calls would finish the put within this turn's microtasks, before any
        // immediate; an fsync off the event loop lets the loop turn first.
        expect(order).toEqual(['immediate', 'put']);
      }
      const many = store.putMany([randomBytes(10), randomBytes(20)]);
      const order: string[] = [];
      setImmediate(() => order.push('immediate'));
      await many.then(() => order.push('putMany'));
      expect(order).toEqual(['immediate', 'putMany']);
    });
  });
});

describe('fan-out directories', () => {
  it('are made in one pass on the first write; a store missing some keeps working', async () => {
    const t = tempDir();
    let store = await BlobStore.open(t.dir, { sync: true, workers: 0 });
    try {
      const h = await store.put(randomBytes(100)).then((r) => r.hash);
      const fanouts = readdirSync(join(t.dir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d));
      expect(fanouts.length).toBe(256);
      await store.close();
      // An older store (or a cleanup) may lack fan-out directories, even the one a put needs.
      for (const d of fanouts) if (d !== h.slice(0, 2)) rmSync(join(t.dir, 'objects', d), { recursive: true });
      store = await BlobStore.open(t.dir, { sync: true, workers: 0 });
      const contents = Array.from({ length: 40 }, () => randomBytes(64));
      const hashes = await Promise.all(contents.map((c) => store.put(c).then((r) => r.hash)));
      for (let i = 0; i < contents.length; i++) expect(Buffer.from(await store.get(hashes[i]!)).equals(contents[i]!)).toBe(true);
      for (const h of hashes) expect(statSync(objectPath(t.dir, h)).mode & 0o777).toBe(0o400);
      // A fan-out directory removed while the store is open is made again by the write that needs it.
      const c = randomBytes(77);
      const hc = sha256Hex(c);
      rmSync(join(t.dir, 'objects', hc.slice(0, 2)), { recursive: true, force: true });
      expect(await store.put(c).then((r) => r.hash)).toBe(hc);
      expect(Buffer.from(await store.get(hc)).equals(c)).toBe(true);
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
