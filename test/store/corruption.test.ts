import { describe, it, expect } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { lz4Compress } from '../../host/node/core/codec.js';
import { decodeManifest } from '../../host/node/store/chunking.js';
import { HASHERS, sha256Hex, tempDir, withStore } from './helpers.js';

function flipByte(path: string, at?: number): void {
  chmodSync(path, 0o644);
  const b = readFileSync(path);
  const i = at ?? Math.floor(b.length / 2);
  b[i] = b[i]! ^ 0x20;
  writeFileSync(path, b);
}

async function getError(store: BlobStore, hash: string): Promise<ForgeError> {
  try {
    await store.get(hash);
  } catch (e) {
    if (e instanceof ForgeError) return e;
    throw e;
  }
  throw new Error('get succeeded on a corrupt object');
}

describe.each(HASHERS)('corruption (hasher %s)', (hasher) => {
  it('a flipped byte makes get fail descriptively, verify report it, and put repair it', async () => {
    await withStore({ hasher, sync: false, workers: 0 }, async (store, dir) => {
      const data = new TextEncoder().encode('the quick brown fox jumps over the lazy dog\n'.repeat(200));
      const hash = await store.put(data).then((r) => r.hash);
      const path = objectPath(dir, hash);
      for (let i = 0; i < 16; i++) {
        const before = readFileSync(path);
        flipByte(path, 7 + ((i * 131) % (before.length - 7))); // anywhere after the magic and flags
        const err = await getError(store, hash);
        expect(err.category).toBe('validation');
        expect(err.message).toContain(path);
        expect(err.message).toContain(hash);
        expect(err.suggestions().join(' ')).toContain('forge verify');
        const report = await store.verify();
        expect(report.ok).toBe(false);
        expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt', path, hash })]);
        // Same content again: the corrupt object is replaced, not trusted.
        expect(await store.put(data).then((r) => r.hash)).toBe(hash);
        expect(Buffer.from(await store.get(hash)).equals(Buffer.from(data))).toBe(true);
        expect((await store.verify()).ok).toBe(true);
      }
    });
  });

  it('an intact frame of other content under a name reports both hashes', async () => {
    await withStore({ hasher, sync: false, workers: 0 }, async (store, dir) => {
      const data = new TextEncoder().encode('original');
      const other = new TextEncoder().encode('impostor');
      const hash = await store.put(data).then((r) => r.hash);
      const path = objectPath(dir, hash);
      chmodSync(path, 0o644);
      writeFileSync(path, lz4Compress(other));
      const err = await getError(store, hash);
      expect(err.category).toBe('validation');
      expect(err.message).toContain(path);
      expect(err.message).toContain(`expected SHA-256 ${hash}`);
      expect(err.message).toContain(sha256Hex(other));
      expect(err.context).toMatchObject({ expected: hash, actual: sha256Hex(other) });
      // Unverified reads return what is there (the caller opted out).
      expect(new TextDecoder().decode(await store.get(hash, { verify: false }))).toBe('impostor');
      const report = await store.verify();
      expect(report.corrupt).toBe(1);
      await store.put(data).then((r) => r.hash);
      expect(new TextDecoder().decode(await store.get(hash))).toBe('original');
    });
  });

  it('a corrupt chunk breaks get of the chunked file, verify names it, putFile repairs it', async () => {
    await withStore({ hasher, sync: false, workers: 0, chunkThreshold: 4096, cdc: { min: 256, avg: 1024, max: 4096 } }, async (store, dir) => {
      const data = new Uint8Array(40_000).map(() => (Math.random() * 256) | 0);
      const file = `${dir}/input.bin`;
      writeFileSync(file, data);
      const put = await store.putFile(file);
      expect(put.chunks).toBeGreaterThan(3);
      const manifest = decodeManifest(await store.get(put.manifest!));
      const victim = manifest.chunks[2]!.hash;
      flipByte(objectPath(dir, victim));
      const err = await getError(store, put.hash);
      expect(err.category).toBe('validation');
      expect(err.message).toContain(objectPath(dir, victim));
      const report = await store.verify();
      expect(report.problems.some((p) => p.kind === 'corrupt' && p.hash === victim)).toBe(true);
      // Reported once, as corrupt: not also as a missing chunk of the file.
      expect(report.missing).toBe(0);
      await store.putFile(file);
      expect(sha256Hex(await store.get(put.hash))).toBe(put.hash);
      expect((await store.verify()).ok).toBe(true);
    });
  });

  it('verify reports stray files, tmp leftovers and hashes expected but missing', async () => {
    await withStore({ hasher, sync: false, workers: 0 }, async (store, dir) => {
      await store.put(new TextEncoder().encode('x')).then((r) => r.hash);
      writeFileSync(`${dir}/objects/ab/not-an-object`.replace('/ab/', '/'), 'junk');
      writeFileSync(`${dir}/objects/tmp/aaaaaaaaaaaa-999999999-0-abcd-1`, 'partial'); // its writer (no such pid) is gone
      const ghost = 'cd'.repeat(32);
      const seen: string[] = [];
      const report = await store.verify({ expected: [ghost], onProgress: (p) => p.problem && seen.push(p.problem.kind) });
      expect(report.stray).toBe(1);
      expect(report.tmp).toBe(1);
      expect(report.missing).toBe(1);
      expect(report.problems.find((p) => p.kind === 'missing')?.hash).toBe(ghost);
      expect(seen.sort()).toEqual(['stray', 'tmp']);
    });
  });
});
