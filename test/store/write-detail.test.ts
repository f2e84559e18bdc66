// The write path's details, in each of its three ways of writing (unsynced on this thread, synced on
// the threadpool, synced through the io backend): file and directory modes, the 256 fan-out
// directories, a fan-out directory removed under a running store, an existing object (freshened, not
// rewritten), a damaged one (rewritten), and failures (the object name is a directory, the tmp
// directory is gone, a short write) that fail their put with a clear ForgeError and leave the writer
// working. Stored objects are checked with the lz4 CLI and sha256sum where it is installed.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import type { PlatformIO, WriteOp, WriteResult } from '../../host/node/base/platform-io.js';
import { createFallbackBackend } from '../../host/node/io/fallback-backend.js';
import { BlobStore, type BlobStoreOptions } from '../../host/node/store/blob-store.js';
import { objectDir, objectPath, tmpDir } from '../../host/node/store/object-path.js';
import { requireTool } from '../support/reference-tools.js';
import { sha256Hex, tempDir } from './helpers.js';

/** `n` bytes that look random but are the same in every run: SHA-256 of `seed` and a counter. */
function fixedBytes(seed: string, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i * 32 < n; i++) parts.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(parts).subarray(0, n);
}

const lz4 = requireTool('lz4', 'lz4', 'decoding objects written by the store with the lz4 CLI');

/** sha256sum of what `lz4 -dc` makes of the object file (both independent of the store's code). */
function decodedHash(path: string): string {
  const d = spawnSync('lz4', ['-dc', path], { maxBuffer: 1 << 26 });
  expect(d.status).toBe(0);
  return spawnSync('sha256sum', [], { input: d.stdout, encoding: 'utf8' }).stdout.split(' ')[0]!;
}

async function rejection(p: Promise<unknown>): Promise<ForgeError> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(r instanceof ForgeError)) throw new Error(`expected a ForgeError, got ${String(r)}`);
  return r;
}

const MODES: Array<[string, BlobStoreOptions]> = [
  ['unsynced, on this thread', { sync: false, io: false, workers: 0 }],
  ['synced, on the threadpool', { sync: true, io: false, workers: 0 }],
  ['synced, through the io backend', { sync: true, workers: 0 }],
];

describe.each(MODES)('object writes (%s)', (_name, options) => {
  it('objects are 0400, the 256 fan-out directories 0700; a removed fan-out directory is made again', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, options);
    try {
      const a = randomBytes(3000);
      const ha = (await store.put(a)).hash;
      expect(ha).toBe(sha256Hex(a));
      expect(statSync(objectPath(t.dir, ha)).mode & 0o777).toBe(0o400);
      const fanouts = readdirSync(join(t.dir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d));
      expect(fanouts).toHaveLength(256);
      for (const d of fanouts) expect(statSync(join(t.dir, 'objects', d)).mode & 0o777).toBe(0o700);
      if (lz4) expect(decodedHash(objectPath(t.dir, ha))).toBe(ha);
      // Removed while the store is open: the rename that needs it makes it again (0700).
      const b = randomBytes(3000);
      const hb = sha256Hex(b);
      rmSync(objectDir(t.dir, hb), { recursive: true, force: true });
      expect((await store.put(b)).hash).toBe(hb);
      expect(statSync(objectDir(t.dir, hb)).mode & 0o777).toBe(0o700);
      expect(statSync(objectPath(t.dir, hb)).mode & 0o777).toBe(0o400);
      expect(Buffer.from(await store.get(hb)).equals(b)).toBe(true);
      expect(readdirSync(tmpDir(t.dir))).toEqual([]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('an existing intact object is freshened, not rewritten; a damaged one is rewritten', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, options);
    try {
      const a = randomBytes(5000);
      const ha = (await store.put(a)).hash;
      const path = objectPath(t.dir, ha);
      const old = new Date('2001-02-03T04:05:06Z');
      utimesSync(path, old, old);
      const ino = statSync(path).ino;
      const again = await store.put(a);
      expect(again).toMatchObject({ hash: ha, storedBytes: 0 });
      expect(statSync(path).ino).toBe(ino);
      expect(statSync(path).mtimeMs).toBeGreaterThan(Date.now() - 10 * 60_000);
      // Damaged: the same put writes a new file under the name.
      chmodSync(path, 0o644);
      writeFileSync(path, Buffer.alloc(5000, 0x33));
      const repaired = await store.put(a);
      expect(repaired.hash).toBe(ha);
      expect(repaired.storedBytes).toBe(statSync(path).size);
      expect(statSync(path).mode & 0o777).toBe(0o400);
      if (lz4) expect(decodedHash(path)).toBe(ha);
      expect(Buffer.from(await store.get(ha)).equals(a)).toBe(true);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('chunked content: every distinct chunk and the manifest are written once, 0400, and read back whole', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, { ...options, chunkThreshold: 64 * 1024 });
    try {
      // The same 200 kB three times: content-defined chunks repeat, and each is stored once. The
      // bytes are fixed (a SHA-256 chain), so whether a chunk lies whole inside two copies does not
      // depend on the run's luck.
      const block = fixedBytes('block', 200_000);
      const data = Buffer.concat([block, block, block, fixedBytes('tail', 50_000)]);
      const r = await store.put(data);
      expect(r.hash).toBe(sha256Hex(data));
      expect(r.chunks).toBeGreaterThan(3);
      expect(r.manifest).toMatch(/^[0-9a-f]{64}$/);
      const objects = readdirSync(join(t.dir, 'objects'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /^[0-9a-f]{62}$/.test(e.name));
      // Fewer objects than chunks (repeats), plus the manifest; what the put says it stored is what is on disk.
      expect(objects.length).toBeLessThan(r.chunks + 1);
      let onDisk = 0;
      for (const e of objects) {
        const st = statSync(join(e.parentPath, e.name));
        expect(st.mode & 0o777).toBe(0o400);
        onDisk += st.size;
        if (lz4) expect(decodedHash(join(e.parentPath, e.name))).toBe(`${e.parentPath.slice(-2)}${e.name}`);
      }
      expect(r.storedBytes).toBe(onDisk);
      expect(Buffer.from(await store.get(r.hash)).equals(data)).toBe(true);
      // Again: nothing new is written.
      expect((await store.put(data)).storedBytes).toBe(0);
      expect(readdirSync(tmpDir(t.dir))).toEqual([]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('an object name that is a directory fails its put (ForgeError with the hash), every time, and the rest still work', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, options);
    try {
      const a = randomBytes(700);
      const ha = sha256Hex(a);
      mkdirSync(objectPath(t.dir, ha), { recursive: true });
      const b = randomBytes(700);
      const [ea, rb, ea2] = await Promise.all([rejection(store.put(a)), store.put(b), rejection(store.put(a))]);
      for (const e of [ea, ea2]) {
        expect(e.code).toBe('EISDIR');
        expect(e.context).toMatchObject({ operation: 'put', hash: ha });
      }
      expect(rb.hash).toBe(sha256Hex(b));
      rmSync(objectPath(t.dir, ha), { recursive: true });
      expect((await store.put(a)).hash).toBe(ha);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  it('with the tmp directory gone every put of the batch fails naming its tmp file; once it is back, puts work', async () => {
    const t = tempDir();
    const store = await BlobStore.open(t.dir, options);
    try {
      await store.put(randomBytes(10)); // the fan-out directories exist
      rmSync(tmpDir(t.dir), { recursive: true });
      writeFileSync(tmpDir(t.dir), 'not a directory');
      const contents = [randomBytes(900), randomBytes(900)];
      const errs = await Promise.all(contents.map((c) => rejection(store.put(c))));
      errs.forEach((e, i) => {
        expect(e.category).toBe('filesystem');
        // The io backend's own error names its operation (batchWrite); the node:fs paths say put.
        expect(e.context.operation).toBe(options.io === false ? 'put' : 'batchWrite');
        expect(String(e.context.file)).toContain(`${tmpDir(t.dir)}/${sha256Hex(contents[i]!).slice(0, 12)}-`);
      });
      for (const c of contents) expect(() => statSync(objectPath(t.dir, sha256Hex(c)))).toThrow();
      rmSync(tmpDir(t.dir));
      mkdirSync(tmpDir(t.dir), { mode: 0o700 });
      const hashes = await Promise.all(contents.map((c) => store.put(c).then((r) => r.hash)));
      expect(hashes).toEqual(contents.map(sha256Hex));
      expect(readdirSync(tmpDir(t.dir))).toEqual([]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});

describe('short writes through the io backend', () => {
  it('a write the backend reports short fails its put with the byte counts; the tmp file is removed', async () => {
    const t = tempDir();
    const inner = createFallbackBackend();
    const shortFor = new Set<string>();
    // The real backend writes; the result of the chosen file is reported one byte short.
    const io: PlatformIO = {
      ...inner,
      backend: inner.backend,
      batchWrite: async (ops: readonly WriteOp[]): Promise<WriteResult[]> => {
        const results = await inner.batchWrite(ops);
        return results.map((r, i) => (r.ok && [...shortFor].some((p) => ops[i]!.path.includes(p)) ? { ...r, bytes: r.bytes - 1 } : r));
      },
      read: (p, o, l) => inner.read(p, o, l),
      write: (p, d, o) => inner.write(p, d, o),
      readAll: (p) => inner.readAll(p),
      writeAll: (p, d, o) => inner.writeAll(p, d, o),
      batchRead: (ps) => inner.batchRead(ps),
      watch: (root, o) => inner.watch(root, o),
      close: () => inner.close(),
      [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
    };
    const store = await BlobStore.open(t.dir, { io, sync: true, workers: 0 });
    try {
      const a = randomBytes(1000);
      const b = randomBytes(1000);
      shortFor.add(`${sha256Hex(a).slice(0, 12)}-`);
      const [ea, rb] = await Promise.all([rejection(store.put(a)), store.put(b)]);
      expect(ea.message).toMatch(/^short write to .+: \d+ of \d+ bytes$/);
      const m = /: (\d+) of (\d+) bytes$/.exec(ea.message)!;
      expect(Number(m[1])).toBe(Number(m[2]) - 1);
      expect(ea.context).toMatchObject({ operation: 'put' });
      expect(rb.hash).toBe(sha256Hex(b));
      expect(() => statSync(objectPath(t.dir, sha256Hex(a)))).toThrow();
      expect(readdirSync(tmpDir(t.dir))).toEqual([]);
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
