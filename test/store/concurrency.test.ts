import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { BlobStore, type BlobStoreOptions } from '../../host/node/store/blob-store.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { lz4Compress } from '../../host/node/core/codec.js';
import { HASHERS, requireDist, sha256Hex, tempDir } from './helpers.js';

type Op = 'put' | 'get' | 'has' | 'stat';

describe.each(HASHERS)('concurrency (hasher %s)', (hasher) => {
  it('Property 7: concurrent operations on different blobs are consistent with a sequential order', async () => {
    const t = tempDir();
    const opts: BlobStoreOptions = { hasher, sync: false, workers: 0, chunkThreshold: 2048, cdc: { min: 64, avg: 256, max: 1024 } };
    const store = await BlobStore.open(t.dir, opts);
    const seen = new Set<string>(); // blobs stored by earlier runs (the store persists across runs)
    try {
      const blob = fc.record({
        data: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        ops: fc.array(fc.constantFrom<Op>('put', 'get', 'has', 'stat'), { minLength: 1, maxLength: 6 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(blob, { minLength: 1, maxLength: 6, selector: (b) => sha256Hex(b.data) }), async (blobs) => {
          // Per blob, the results its ops must give when run in order (the sequential model).
          const run = async (b: { data: Uint8Array; ops: Op[] }): Promise<void> => {
            const hash = sha256Hex(b.data);
            let present = seen.has(hash);
            for (const op of b.ops) {
              if (op === 'put') {
                expect(await store.put(b.data).then((r) => r.hash)).toBe(hash);
                present = true;
              } else if (op === 'get') {
                if (present) expect(Buffer.from(await store.get(hash)).equals(Buffer.from(b.data))).toBe(true);
                else await expect(store.get(hash)).rejects.toMatchObject({ category: 'filesystem' });
              } else if (op === 'has') {
                expect(await store.has(hash)).toBe(present);
              } else {
                const st = await store.stat(hash);
                if (present) expect(st?.size).toBe(b.data.length);
                else expect(st).toBeUndefined();
              }
            }
            if (present) seen.add(hash);
          };
          await Promise.all(blobs.map(run));
        }),
        { numRuns: 100 },
      );
      const report = await store.verify({ expected: seen });
      expect(report.ok).toBe(true);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it("Property 24: concurrent writes of one blob leave exactly one writer's content", async () => {
    const t = tempDir();
    // Writers whose frames differ (block size, block checksums), so the survivor is identifiable.
    const variants: Array<BlobStoreOptions['frame']> = [
      { blockSize: 65536 },
      { blockSize: 262144 },
      { blockSize: 1048576, blockChecksum: true },
      { blockSize: 4194304 },
    ];
    const stores = await Promise.all(
      variants.map((frame) => BlobStore.open(t.dir, { hasher, frame, sync: false, workers: 1, parallelCompressThreshold: 100_000, chunkThreshold: 1 << 22 })),
    );
    try {
      const content = fc.oneof(
        { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3000 }), weight: 3 },
        {
          // above the 100 KB parallel threshold: framed from block ranges on the workers
          arbitrary: fc
            .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 10_000, max: 15_000 }))
            .map(([s, n]) => new TextEncoder().encode(s.repeat(n).slice(0, 150_000).padEnd(100_001, '.'))),
          weight: 1,
        },
      );
      await fc.assert(
        fc.asyncProperty(content, fc.integer({ min: 2, max: 5 }), async (data, copies) => {
          const hash = sha256Hex(data);
          const writers = Array.from({ length: copies }, (_, i) => stores[i % stores.length]!);
          const hashes = await Promise.all(writers.map((s) => s.put(data).then((r) => r.hash)));
          expect(new Set(hashes)).toEqual(new Set([hash]));
          const onDisk = readFileSync(objectPath(t.dir, hash));
          const candidates = variants.map((frame) => Buffer.from(lz4Compress(data, frame)));
          expect(candidates.filter((c) => c.equals(onDisk)).length).toBeGreaterThanOrEqual(1);
          expect(readdirSync(`${t.dir}/objects/tmp`)).toEqual([]);
          expect(sha256Hex(await stores[0]!.get(hash))).toBe(hash);
        }),
        { numRuns: 100 },
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      t.cleanup();
    }
  });
});

describe('concurrent reads', () => {
  const workers: Worker[] = [];
  let nextId = 1;
  const pending = new Map<number, (r: { ok: boolean; data?: Uint8Array; message?: string }) => void>();

  beforeAll(async () => {
    const blobStoreJs = requireDist('store/blob-store.js');
    const script = fileURLToPath(new URL('./fixtures/reader-worker.mjs', import.meta.url));
    for (let i = 0; i < 2; i++) {
      const w = new Worker(script, { workerData: { blobStoreJs } });
      await new Promise<void>((resolve, reject) => {
        w.once('error', reject);
        w.on('message', (m: { ready?: boolean; id?: number; ok: boolean; data?: Uint8Array; message?: string }) => {
          if (m.ready) return resolve();
          pending.get(m.id!)?.(m);
          pending.delete(m.id!);
        });
      });
      workers.push(w);
    }
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  function workerGet(w: Worker, dir: string, hash: string, options: BlobStoreOptions): Promise<Uint8Array> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, (r) => (r.ok ? resolve(r.data!) : reject(new Error(r.message))));
      w.postMessage({ id, dir, hash, options });
    });
  }

  it.each(HASHERS)('Property 23: concurrent reads of one blob, including from worker threads, return identical bytes (hasher %s)', async (hasher) => {
    const t = tempDir();
    // A low mmap threshold so larger blobs are read through mmap; small chunk sizes so some are chunked.
    const options: BlobStoreOptions = { hasher, sync: false, workers: 0, mmapThreshold: 2048, chunkThreshold: 8192, cdc: { min: 256, avg: 1024, max: 4096 } };
    const store = await BlobStore.open(t.dir, options);
    try {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 2, max: 6 }), async (data, readers) => {
          const hash = await store.put(data).then((r) => r.hash);
          const reads: Array<Promise<Uint8Array>> = [];
          for (let i = 0; i < readers; i++) reads.push(store.get(hash));
          reads.push(store.getMany([hash]).then((r) => (r[0]!.ok ? r[0]!.data : Promise.reject(r[0]!.error))));
          for (const w of workers) reads.push(workerGet(w, t.dir, hash, options));
          const all = await Promise.all(reads);
          for (const r of all) {
            expect(r.length).toBe(data.length);
            expect(Buffer.from(r).equals(Buffer.from(data))).toBe(true);
          }
          expect(sha256Hex(all[all.length - 1]!)).toBe(hash);
        }),
        { numRuns: 100 },
      );
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});

describe('Property 24 on one shared store', () => {
  it('concurrent puts of the same new content: one write, the others find it; never two writers inside one hash', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { sync: false, workers: 1, parallelCompressThreshold: 100_000, chunkThreshold: 1 << 22 });
    const seen = new Set<string>();
    try {
      const content = fc.oneof(
        { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3000 }), weight: 3 },
        { arbitrary: fc.integer({ min: 100_001, max: 140_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 255)), weight: 1 },
      );
      await fc.assert(
        fc.asyncProperty(content, fc.integer({ min: 2, max: 6 }), async (data, copies) => {
          const hash = sha256Hex(data);
          const fresh = !seen.has(hash);
          seen.add(hash);
          // All started in one turn: a real race on one hash in one store.
          const results = await Promise.all(Array.from({ length: copies }, () => store.put(data)));
          expect(new Set(results.map((r) => r.hash))).toEqual(new Set([hash]));
          // Counted, not timed: exactly one put wrote the object (the lock serialised the rest,
          // which found it intact), and no two writers were ever inside one hash's lock.
          expect(results.filter((r) => r.storedBytes > 0).length).toBe(fresh ? 1 : 0);
          expect(store.stats().peakWritersPerHash).toBe(1);
          expect(readdirSync(`${t.dir}/objects/tmp`)).toEqual([]);
          expect(sha256Hex(await store.get(hash))).toBe(hash);
        }),
        { numRuns: 100 },
      );
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
