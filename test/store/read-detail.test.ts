// The read path's details that the round-trip and corruption tests leave open: the exact errors
// (absent object, undecodable frame, a name that is a directory or under a file), `verify: false`,
// object files right at the 16 KiB peek boundary, and a worker-decoded object whose content is not
// its name. Damaged objects are made from the store's own frames (one object's file copied under
// another's name), expected hashes by node:crypto.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { coreBindings } from '../../host/node/store/core-bindings.js';
import { DECODE_POOL_AFTER_BYTES, FrameCodec } from '../../host/node/store/codec/frame-codec.js';
import { createHasher } from '../../host/node/store/hasher.js';
import { objectDir, objectPath } from '../../host/node/store/object-path.js';
import { OFFLOAD_MIN_BYTES, readObject, type ReadContext } from '../../host/node/store/read.js';
import { HASHERS, sha256Hex, tempDir } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<ForgeError> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(r instanceof ForgeError)) throw new Error(`expected a ForgeError, got ${String(r)}`);
  return r;
}

/** Puts `a` and `b`, then puts b's object file under a's name: an intact frame of other content. */
async function swapped(store: BlobStore, dir: string, a: Uint8Array, b: Uint8Array): Promise<{ ha: string; hb: string; path: string }> {
  const ha = (await store.put(a)).hash;
  const hb = (await store.put(b)).hash;
  const path = objectPath(dir, ha);
  chmodSync(path, 0o644);
  copyFileSync(objectPath(dir, hb), path);
  return { ha, hb, path };
}

describe.each(HASHERS)('read path details (hasher %s)', (hasher) => {
  it('an absent object: the error names the hash, the store, the file and what to do', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0 });
    try {
      const hash = 'ab'.repeat(32);
      for (const concurrent of [false, true]) {
        const errs = concurrent ? await Promise.all([rejection(store.get(hash)), rejection(store.get(hash))]) : [await rejection(store.get(hash))];
        for (const err of errs) {
          expect(err.category).toBe('filesystem');
          expect(err.message).toBe(`Object ${hash} is not in the store at ${t.dir}`);
          expect(err.context).toMatchObject({ file: objectPath(t.dir, hash), operation: 'get', hash, code: 'ENOENT' });
          const s = err.suggestions();
          expect(s).toHaveLength(2);
          expect(s[0]).toMatch(/Check the hash/);
          expect(s[1]).toMatch(/forge verify/);
        }
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('an undecodable object file: "undecodable", why, the EBADMSG context and both suggestions', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, mmapThreshold: 64 * 1024 });
    try {
      // Garbage small enough for the peek read, and large enough for the mmap read.
      for (const size of [100, 200_000]) {
        const { hash } = await store.put(randomBytes(size));
        const path = objectPath(t.dir, hash);
        chmodSync(path, 0o644);
        writeFileSync(path, Buffer.alloc(size, 0x5a));
        for (const err of [await rejection(store.get(hash)), ...(await Promise.all([rejection(store.get(hash)), rejection(store.get(hash))]))]) {
          expect(err.category).toBe('validation');
          expect(err.message).toMatch(new RegExp(`^Object ${path} is corrupt: expected SHA-256 ${hash}, got undecodable \\(not a valid LZ4 frame: .+\\)$`));
          expect(err.context).toMatchObject({ file: path, operation: 'get', expected: hash, actual: 'undecodable', code: 'EBADMSG' });
          const s = err.suggestions();
          expect(s).toHaveLength(2);
          expect(s[0]).toMatch(/forge verify/);
          expect(s[1]).toMatch(/Putting the same content again/);
        }
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it("verify: false returns the stored frame's content without checking its name; verified gets refuse it", async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, mmapThreshold: 64 * 1024 });
    try {
      for (const size of [1000, 40_000, 300_000]) {
        const { ha, hb, path } = await swapped(store, t.dir, randomBytes(size), randomBytes(size + 1));
        const other = await store.get(hb);
        expect(sha256Hex(await store.get(ha, { verify: false }))).toBe(hb);
        const both = await Promise.all([store.get(ha, { verify: false }), store.get(ha, { verify: false })]);
        expect(both.map(sha256Hex)).toEqual([hb, hb]);
        const err = await rejection(store.get(ha));
        expect(err.message).toBe(`Object ${path} is corrupt: expected SHA-256 ${ha}, got ${hb}`);
        expect(err.context).toMatchObject({ expected: ha, actual: hb, code: 'EBADMSG' });
        expect(other.length).toBe(size + 1);
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('object files of 16 KiB (the peek buffer) and one byte either side read back exactly', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0 });
    try {
      // Random bytes are stored as raw blocks: the file is the content plus a fixed overhead.
      const probe = await store.put(randomBytes(10_000));
      const overhead = statSync(objectPath(t.dir, probe.hash)).size - 10_000;
      for (const fileSize of [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1]) {
        const data = randomBytes(fileSize - overhead);
        const { hash } = await store.put(data);
        expect(statSync(objectPath(t.dir, hash)).size).toBe(fileSize);
        expect(Buffer.from(await store.get(hash)).equals(data)).toBe(true);
        const both = await Promise.all([store.get(hash), store.get(hash)]);
        for (const b of both) expect(Buffer.from(b).equals(data)).toBe(true);
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('every get closes its file, also when it fails (lone and concurrent gets, /proc/self/fd)', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, mmapThreshold: 64 * 1024 });
    try {
      const hashes = await Promise.all([100, 30_000, 200_000].map((n) => store.put(randomBytes(n)).then((r) => r.hash)));
      const { ha } = await swapped(store, t.dir, randomBytes(20_000), randomBytes(20_001));
      const openFds = (): number => readdirSync('/proc/self/fd').length;
      const before = openFds();
      for (let i = 0; i < 100; i++) {
        for (const h of hashes) await store.get(h);
        await Promise.all(hashes.map((h) => store.get(h)));
        await rejection(store.get(ha));
        await Promise.all([rejection(store.get(ha)), rejection(store.get(ha))]);
      }
      // 900 gets and 300 failed ones: a leak would leave hundreds open; a few may come and go meanwhile.
      expect(openFds()).toBeLessThan(before + 20);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('mmap is used from mmapThreshold on: one byte below is read, at the threshold it is mapped (stats)', async () => {
    const t = tempDir();
    const threshold = 64 * 1024;
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0, mmapThreshold: threshold });
    try {
      const probe = await store.put(randomBytes(10_000));
      const overhead = statSync(objectPath(t.dir, probe.hash)).size - 10_000;
      const below = randomBytes(threshold - 1 - overhead);
      const at = randomBytes(threshold - overhead);
      const hb = (await store.put(below)).hash;
      const hat = (await store.put(at)).hash;
      expect(statSync(objectPath(t.dir, hb)).size).toBe(threshold - 1);
      expect(statSync(objectPath(t.dir, hat)).size).toBe(threshold);
      const s0 = store.stats().mmapReads;
      expect(Buffer.from(await store.get(hb)).equals(below)).toBe(true);
      expect(store.stats().mmapReads).toBe(s0);
      expect(Buffer.from(await store.get(hat)).equals(at)).toBe(true);
      if (process.platform === 'linux') expect(store.stats().mmapReads).toBe(s0 + 1);
      expect(store.stats().mmapFallbacks).toBe(0);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('an object name that is a directory, or under a file, is a ForgeError with the code and the file', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { hasher, sync: false, workers: 0 });
    try {
      const dirHash = 'cd'.repeat(32);
      mkdirSync(objectPath(t.dir, dirHash), { recursive: true });
      const fileHash = 'ef'.repeat(32);
      rmSync(objectDir(t.dir, fileHash), { recursive: true, force: true });
      writeFileSync(objectDir(t.dir, fileHash), 'not a directory');
      for (const [hash, code] of [
        [dirHash, 'EISDIR'],
        [fileHash, 'ENOTDIR'],
      ] as const) {
        const errs = [await rejection(store.get(hash)), ...(await Promise.all([rejection(store.get(hash)), rejection(store.get(hash))]))];
        for (const err of errs) {
          expect(err.code).toBe(code);
          expect(err.context).toMatchObject({ file: objectPath(t.dir, hash), operation: 'get' });
        }
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});

describe('worker-decoded reads', () => {
  it('an intact frame of other content is refused after a worker decoded it, naming both hashes', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { sync: false, workers: 0, chunkThreshold: 8 << 20 });
    const codec = new FrameCodec(coreBindings(), { workers: 1 });
    try {
      const { ha, hb, path } = await swapped(store, t.dir, randomBytes(OFFLOAD_MIN_BYTES * 3), randomBytes(OFFLOAD_MIN_BYTES * 3 + 7));
      const ctx: ReadContext = { root: t.dir, codec, hasher: await createHasher('node-crypto'), mmapThreshold: 1 << 30 };
      const pool = codec.decodeWorkers(DECODE_POOL_AFTER_BYTES)!;
      pool.tryDecode(-1, 0, 0); // starts the worker
      for (let i = 0; i < 600 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 25));
      expect(pool.ready).toBe(1);
      let taken = 0;
      const tryDecode = pool.tryDecode.bind(pool);
      pool.tryDecode = (...args) => {
        const job = tryDecode(...args);
        if (job) taken++;
        return job;
      };
      const err = await rejection(readObject(ctx, ha, true, true));
      expect(taken).toBe(1);
      expect(err.message).toBe(`Object ${path} is corrupt: expected SHA-256 ${ha}, got ${hb}`);
      // The intact object next to it comes back whole from the worker.
      const good = await readObject(ctx, hb, true, true);
      expect(taken).toBe(2);
      expect(sha256Hex(good!)).toBe(hb);
      // Unverified, or a lone get: decoded here, the same bytes.
      expect(sha256Hex((await readObject(ctx, ha, false, true))!)).toBe(hb);
      expect(taken).toBe(2);
      // A context without counters (read.ts used outside a store) reads mapped objects too.
      const mapped: ReadContext = { ...ctx, mmapThreshold: 4096 };
      expect(sha256Hex((await readObject(mapped, hb, true, false))!)).toBe(hb);
    } finally {
      await codec.close();
      await store.close();
      t.cleanup();
    }
  });
});
