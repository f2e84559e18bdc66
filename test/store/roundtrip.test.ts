import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { lz4Compress } from '../../host/node/core/codec.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { mmapAvailable } from '../../host/node/store/mmap.js';
import { HASHERS, sha256Hex, tempDir, withStore } from './helpers.js';

describe.each(HASHERS)('BlobStore with hasher %s', (hasher) => {
  let t: ReturnType<typeof tempDir>;
  let store: BlobStore;
  beforeAll(async () => {
    t = tempDir();
    // Tiny chunking parameters so small generated inputs exercise the chunked path too.
    store = await BlobStore.open(t.dir, {
      hasher,
      sync: false,
      workers: 0,
      chunkThreshold: 1024,
      cdc: { min: 64, avg: 256, max: 1024 },
    });
  });
  afterAll(async () => {
    await store.close();
    t.cleanup();
  });

  it('Property 8: put/get round-trips with a matching SHA-256', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), async (data) => {
        const hash = await store.put(data).then((r) => r.hash);
        expect(hash).toBe(sha256Hex(data));
        const back = await store.get(hash);
        expect(sha256Hex(back)).toBe(hash);
        expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
        expect(await store.has(hash)).toBe(true);
        const st = await store.stat(hash);
        expect(st?.size).toBe(data.length);
        expect(st?.chunked).toBe(data.length > 1024);
        if (data.length > 0 && data.length <= 1024) {
          // Tamper: a well-formed LZ4 frame (its checksums all good) of other content under this
          // name. Only the SHA-256 check on read can tell.
          const other = Uint8Array.from(data);
          other[0] = other[0]! ^ 0xff;
          rmSync(objectPath(t.dir, hash));
          writeFileSync(objectPath(t.dir, hash), lz4Compress(other, { contentChecksum: true }));
          const err = await store.get(hash).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ForgeError);
          expect(['validation', 'integrity']).toContain((err as ForgeError).category);
          expect((err as ForgeError).message).toContain(hash);
          // Putting the content again repairs it.
          await store.put(data);
          expect(sha256Hex(await store.get(hash))).toBe(hash);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('putMany stores contents and files, one result per item, failures isolated', async () => {
    const a = new TextEncoder().encode('alpha');
    const f = `${t.dir}/input.bin`;
    const fileData = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
    writeFileSync(f, fileData);
    const res = await store.putMany([a, { data: a }, { path: f }, { path: `${t.dir}/does-not-exist` }]);
    expect(res[0]).toMatchObject({ ok: true, hash: sha256Hex(a), size: 5, chunks: 1 });
    expect(res[1]).toMatchObject({ ok: true, hash: sha256Hex(a), storedBytes: 0 });
    expect(res[2]).toMatchObject({ ok: true, hash: sha256Hex(fileData), size: 3000 });
    expect((res[2] as { chunks: number }).chunks).toBeGreaterThan(1);
    expect(res[3]!.ok).toBe(false);
    const got = await store.getMany([sha256Hex(a), sha256Hex(fileData), '0'.repeat(64)]);
    expect(got[0]).toMatchObject({ ok: true });
    expect(Buffer.from((got[1] as { data: Uint8Array }).data).equals(Buffer.from(fileData))).toBe(true);
    expect(got[2]!.ok).toBe(false);
  });

  it('putFile reports hash, size and chunks', async () => {
    const f = `${t.dir}/pf.bin`;
    const data = new Uint8Array(5000).map(() => Math.floor(Math.random() * 256));
    writeFileSync(f, data);
    const r = await store.putFile(f);
    expect(r.hash).toBe(sha256Hex(data));
    expect(r.size).toBe(5000);
    expect(r.chunks).toBeGreaterThan(1);
    expect(r.manifest).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(objectPath(t.dir, r.manifest!))).toBe(true);
  });

  it('get of an absent hash and of a malformed hash are clear ForgeErrors', async () => {
    await expect(store.get('ab'.repeat(32))).rejects.toMatchObject({ category: 'filesystem' });
    await expect(store.get('not-a-hash')).rejects.toBeInstanceOf(ForgeError);
    await expect(store.get('not-a-hash')).rejects.toMatchObject({ category: 'validation' });
  });
});

describe('BlobStore options', () => {
  it('rejects bad chunk and O_DIRECT thresholds with ForgeErrors', async () => {
    const t = tempDir();
    try {
      await expect(BlobStore.open(t.dir, { oDirect: true, oDirectThreshold: 1.5 })).rejects.toMatchObject({ category: 'configuration' });
      await expect(BlobStore.open(t.dir, { chunkThreshold: 10 })).rejects.toMatchObject({ category: 'configuration' });
      await expect(BlobStore.open(t.dir, { cdc: { min: 100, avg: 50, max: 10 } })).rejects.toMatchObject({ category: 'configuration' });
    } finally {
      t.cleanup();
    }
  });

  it('refuses a directory whose store.json describes another format', async () => {
    const t = tempDir();
    try {
      writeFileSync(`${t.dir}/store.json`, JSON.stringify({ format: 'forge-store', version: 99 }));
      await expect(BlobStore.open(t.dir)).rejects.toMatchObject({ category: 'configuration' });
    } finally {
      t.cleanup();
    }
  });

  it('large content goes through the worker pool and still round-trips (mmap read path too)', async () => {
    await withStore({ sync: false, workers: 2, chunkThreshold: 64 << 20, mmapThreshold: 4096 }, async (store) => {
      expect(store.compression.parallel).toBe(true);
      // Objects >= mmapThreshold are really mapped on Linux (no silent fallback).
      expect(mmapAvailable()).toBe(process.platform === 'linux');
      // A Buffer on purpose: Buffer#slice is a view, so copying it wrongly would detach the caller's data.
      const data = Buffer.alloc(3 << 20);
      for (let i = 0; i < data.length; i += 4096) data.write(`block ${i} `.repeat(40), i);
      const expected = sha256Hex(data);
      const hash = await store.put(data).then((r) => r.hash);
      expect(hash).toBe(expected);
      expect(data.length).toBe(3 << 20); // the caller's buffer is intact
      expect(sha256Hex(data)).toBe(expected);
      const back = await store.get(hash);
      expect(sha256Hex(back)).toBe(hash);
      // Several large Buffers at once, through putMany.
      const many = [0, 1, 2].map((k) => Buffer.from(data.subarray(k * 200_000, k * 200_000 + 300_000)));
      const res = await store.putMany(many);
      for (let k = 0; k < 3; k++) {
        expect(res[k]).toMatchObject({ ok: true, hash: sha256Hex(many[k]!) });
        expect(sha256Hex(await store.get(sha256Hex(many[k]!)))).toBe(sha256Hex(many[k]!));
      }
    });
  });
});
