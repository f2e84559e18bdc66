import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { coreBindings } from '../../host/node/store/core-bindings.js';
import { DECODE_POOL_AFTER_BYTES, FrameCodec } from '../../host/node/store/codec/frame-codec.js';
import { createHasher } from '../../host/node/store/hasher.js';
import { OFFLOAD_MIN_BYTES, readObject, type ReadContext } from '../../host/node/store/read.js';
import { CodecPool, workerScriptPath } from '../../host/node/store/codec/codec-pool.js';
import { HASHERS, sha256Hex, tempDir, withStore } from './helpers.js';

const BLOCK = 65536;

/** Content of `size` bytes: compressible text, or random bytes (stored as raw blocks). */
function content(size: number, random: boolean, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = random ? x & 0xff : 97 + ((x >>> 8) % 7); // 7 letters: LZ4 finds matches
  }
  return out;
}

async function getError(p: Promise<unknown>): Promise<ForgeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ForgeError) return e;
    throw e;
  }
  throw new Error('get succeeded on a corrupt object');
}

function expectIntegrityError(err: ForgeError, path: string, hash: string): void {
  expect(err.category).toBe('validation');
  expect(err.message).toContain(path);
  expect(err.message).toContain(`expected SHA-256 ${hash}`);
  expect(err.context).toMatchObject({ file: path, expected: hash });
  expect(err.suggestions().join(' ')).toContain('forge verify');
}

async function waitReady(pool: CodecPool, n: number): Promise<void> {
  for (let i = 0; i < 600 && pool.ready < n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(pool.ready).toBe(n);
}

describe.each(HASHERS)('verified read path (hasher %s)', (hasher) => {
  it('get returns exactly what was put, for sizes around block boundaries (property, 120 runs)', async () => {
    const t = tempDir();
    // A low mmap threshold so about half the objects are read through a mapping.
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, mmapThreshold: 48 * 1024, chunkThreshold: 8 << 20 });
    try {
      const size = fc.oneof(
        fc.integer({ min: 0, max: 5 * BLOCK }),
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -3, max: 3 })).map(([k, d]) => k * BLOCK + d),
      );
      await fc.assert(
        fc.asyncProperty(size, fc.boolean(), fc.integer(), async (n, random, seed) => {
          const data = content(n, random, seed);
          const hash = await store.put(data).then((r) => r.hash);
          expect(hash).toBe(sha256Hex(data));
          const back = await store.get(hash);
          expect(back.length).toBe(n);
          expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
          expect(Buffer.from(await store.get(hash, { verify: false })).equals(Buffer.from(data))).toBe(true);
          const [many] = await store.getMany([hash]);
          expect(many).toMatchObject({ ok: true });
          expect(Buffer.from((many as { data: Uint8Array }).data).equals(Buffer.from(data))).toBe(true);
        }),
        { numRuns: 120 },
      );
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('a damaged multi-block frame (any byte, truncation, trailing bytes) fails get descriptively, never returns bytes', async () => {
    await withStore({ hasher, sync: false, workers: 0 }, async (store, dir) => {
      const data = content(3 * BLOCK + 1234, false, 7);
      const hash = await store.put(data).then((r) => r.hash);
      const path = objectPath(dir, hash);
      chmodSync(path, 0o644);
      const frame = readFileSync(path);
      const damaged: Buffer[] = [];
      // Header (incl. its checksum byte), block sizes, block data, end mark, content checksum.
      const spots = [4, 5, 6, 13, 14, 15, 16, 17, 18, 100, frame.length >> 1, frame.length - 9, frame.length - 5, frame.length - 4, frame.length - 1];
      for (const at of spots) {
        const b = Buffer.from(frame);
        b[at] = b[at]! ^ 0x10;
        damaged.push(b);
      }
      damaged.push(frame.subarray(0, frame.length - 1), frame.subarray(0, 20), Buffer.concat([frame, Buffer.from([1, 2, 3])]));
      for (const bytes of damaged) {
        writeFileSync(path, bytes);
        expectIntegrityError(await getError(store.get(hash)), path, hash);
        const [r] = await store.getMany([hash]);
        expect(r).toMatchObject({ ok: false, error: { category: 'validation' } });
      }
      writeFileSync(path, frame);
      expect(Buffer.from(await store.get(hash)).equals(Buffer.from(data))).toBe(true);
    });
  });
});

describe('concurrent gets on decode workers', () => {
  it('starts workers only after sustained concurrent reading, and they return verified content', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { sync: false, workers: 0, chunkThreshold: 8 << 20 });
    const codec = new FrameCodec(coreBindings(), { workers: 2 });
    try {
      const items = [0, 1, 2, 3, 4, 5].map((i) => content(OFFLOAD_MIN_BYTES * 4 + i * 40_000, i % 2 === 1, i + 1));
      const hashes = await Promise.all(items.map((d) => store.put(d).then((r) => r.hash)));
      const ctx: ReadContext = { root: t.dir, codec, hasher: await createHasher('node-crypto'), mmapThreshold: 1 << 30 };
      // Below the threshold: no pool yet.
      expect(codec.decodeWorkers(1)).toBeUndefined();
      const pool = codec.decodeWorkers(DECODE_POOL_AFTER_BYTES);
      expect(pool).toBeInstanceOf(CodecPool);
      pool!.tryDecode(-1, 0, 0); // starts the workers (none is ready yet, so no job is taken)
      pool!.tryDecode(-1, 0, 0);
      await waitReady(pool!, 2);
      // Count the jobs the workers really take (the rest decode inline).
      let taken = 0;
      const tryDecode = pool!.tryDecode.bind(pool);
      pool!.tryDecode = (...args) => {
        const job = tryDecode(...args);
        if (job) taken++;
        return job;
      };
      for (let round = 0; round < 3; round++) {
        const got = await Promise.all(hashes.map((h) => readObject(ctx, h, true, true)));
        got.forEach((g, i) => expect(Buffer.from(g!).equals(Buffer.from(items[i]!))).toBe(true));
      }
      expect(taken).toBe(3 * hashes.length);
      // A corrupt object read concurrently: the worker gives up, the caller reports it.
      const victim = objectPath(t.dir, hashes[2]!);
      chmodSync(victim, 0o644);
      const frame = readFileSync(victim);
      frame[frame.length >> 1] ^= 0x01;
      writeFileSync(victim, frame);
      const results = await Promise.allSettled(hashes.map((h) => readObject(ctx, h, true, true)));
      results.forEach((r, i) => {
        if (i === 2) {
          expect(r.status).toBe('rejected');
          expectIntegrityError((r as PromiseRejectedResult).reason as ForgeError, victim, hashes[2]!);
        } else {
          expect(r.status).toBe('fulfilled');
          expect(Buffer.from((r as PromiseFulfilledResult<Uint8Array>).value).equals(Buffer.from(items[i]!))).toBe(true);
        }
      });
      // A missing object is undefined, as on the inline path.
      expect(await readObject(ctx, '0'.repeat(64), true, true)).toBeUndefined();
    } finally {
      await codec.close();
      await store.close();
      t.cleanup();
    }
  });

  it('CodecPool: a decode pending when the pool closes falls back to the caller', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { sync: false, workers: 0, chunkThreshold: 8 << 20 });
    const pool = new CodecPool(1, workerScriptPath()!);
    try {
      const data = content(4 * BLOCK, false, 3);
      const hash = await store.put(data).then((r) => r.hash);
      const fd = openSync(objectPath(t.dir, hash), 'r');
      try {
        expect(pool.tryDecode(fd, fstatSync(fd).size, 1 << 30)).toBeUndefined(); // starting
        await waitReady(pool, 1);
        const ok = await pool.tryDecode(fd, fstatSync(fd).size, 1 << 30);
        expect(ok).toMatchObject({ kind: 'content' });
        expect(sha256Hex((ok as { content: Uint8Array }).content)).toBe(hash); // the caller hashes it
        const pending = pool.tryDecode(fd, fstatSync(fd).size, 1 << 30);
        expect(pending).toBeDefined();
        await pool.close();
        expect(['content', 'fallback']).toContain((await pending!).kind);
        expect(pool.tryDecode(fd, 1, 1)).toBeUndefined(); // closed: callers decode inline
      } finally {
        closeSync(fd);
      }
    } finally {
      await pool.close();
      await store.close();
      t.cleanup();
    }
  });
});

describe('mmap read path is taken', () => {
  it.skipIf(process.platform !== 'linux')('large objects are read through mmap (store.stats().mmapReads), small ones are not', async () => {
    const { randomBytes } = await import('node:crypto');
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { workers: 0, mmapThreshold: 64 * 1024, chunkThreshold: 1 << 20 });
    try {
      const big = await store.put(randomBytes(300_000)).then((r) => r.hash);
      const small = await store.put(randomBytes(1000)).then((r) => r.hash);
      const before = store.stats().mmapReads;
      await store.get(small);
      expect(store.stats().mmapReads).toBe(before);
      const data = await store.get(big);
      expect(sha256Hex(data)).toBe(big);
      expect(store.stats().mmapReads).toBe(before + 1);
      expect(store.stats().mmapFallbacks).toBe(0);
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
