// compression: 'none': objects whose blocks are stored uncompressed are still standard LZ4 frames.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { requireTool } from '../support/reference-tools.js';
import { sha256Hex, tempDir, withStore } from './helpers.js';

const lz4 = requireTool('lz4', 'lz4', "decoding objects of compression: 'none' with the lz4 CLI");
const BLOCK = 65536;

/** Bytes of a frame whose blocks are all stored: header with content size (15), 4 per block, the content, end mark and checksum (8). */
const storedSize = (n: number): number => 15 + 4 * Math.ceil(n / BLOCK) + n + 8;

describe("compression: 'none'", () => {
  it('Property: every put is one frame of stored blocks (its size says so) that lz4 -dc decodes to the content, and get returns it (120 runs)', async () => {
    await withStore({ compression: 'none', sync: false, chunkThreshold: 8 << 20 }, async (store, dir) => {
      expect(store.compression.blocks).toBe('none');
      const size = fc.oneof(
        fc.integer({ min: 0, max: 3 * BLOCK }),
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -2, max: 2 })).map(([k, d]) => k * BLOCK + d),
      );
      await fc.assert(
        fc.asyncProperty(size, fc.boolean(), async (n, text) => {
          // Text compresses well: stored anyway, so the size is the stored-frame size, not less.
          const data = text ? Buffer.from('abcdefgh'.repeat(Math.ceil(n / 8)).slice(0, n)) : randomBytes(n);
          const r = await store.put(data);
          expect(r.hash).toBe(sha256Hex(data));
          const path = objectPath(dir, r.hash);
          expect(statSync(path).size).toBe(storedSize(n));
          if (lz4) {
            const d = spawnSync('lz4', ['-dc', path], { maxBuffer: 1 << 26 });
            expect(d.status).toBe(0);
            expect(sha256Hex(d.stdout)).toBe(r.hash);
          }
          expect(sha256Hex(await store.get(r.hash))).toBe(r.hash);
        }),
        { numRuns: 120 },
      );
    });
  });

  it('concurrent puts, putMany and chunked content all store blocks uncompressed; a store reads both kinds of object', async () => {
    const t = tempDir();
    const text = (n: number): Buffer => Buffer.from('the quick brown fox '.repeat(Math.ceil(n / 20)).slice(0, n));
    try {
      const packed = await BlobStore.open(t.dir, { sync: false });
      const small = text(4000);
      const a = await packed.put(small);
      await packed.close();
      expect(statSync(objectPath(t.dir, a.hash)).size).toBeLessThan(4000); // compressed (the default)
      const store = await BlobStore.open(t.dir, { sync: false, compression: 'none', chunkThreshold: 256 << 10 });
      try {
        const items = Array.from({ length: 16 }, (_, i) => text(3000 + i * 700));
        const single = await Promise.all(items.slice(0, 8).map((d) => store.put(d)));
        const many = await store.putMany(items.slice(8));
        for (const r of [...single, ...many.map((m) => (m.ok ? m : expect.unreachable()))]) {
          expect(statSync(objectPath(t.dir, r.hash)).size).toBe(storedSize(r.size));
        }
        const big = text(1 << 20); // chunked: every chunk and the manifest are stored frames
        const rb = await store.put(big);
        expect(rb.chunks).toBeGreaterThan(1);
        expect(rb.storedBytes).toBeGreaterThan(big.length);
        expect(sha256Hex(await store.get(rb.hash))).toBe(rb.hash);
        expect(Buffer.from(await store.get(a.hash)).equals(small)).toBe(true); // the compressed one
        expect(readFileSync(objectPath(t.dir, a.hash)).length).toBeLessThan(4000);
      } finally {
        await store.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('an unknown compression is refused when the store is opened', async () => {
    const t = tempDir();
    try {
      const err = await BlobStore.open(t.dir, { compression: 'zstd' as 'lz4' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).category).toBe('configuration');
      expect((err as ForgeError).message).toContain("compression must be 'lz4' or 'none'");
    } finally {
      t.cleanup();
    }
  });
});
