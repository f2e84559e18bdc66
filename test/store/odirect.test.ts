/**
 * BlobStore `oDirect`: objects of >= `oDirectThreshold` content (and the chunks of such content)
 * are written with O_DIRECT through io_uring on a disk filesystem, fall back quietly (and counted)
 * where the filesystem refuses (ramfs), and stay readable, verifiable and lz4-CLI-compatible.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { acceptsDirect, diskDir, mountRamfs, noise, residentPages } from '../io/direct-helpers.js';
import { sha256Hex } from './helpers.js';
import { requireTool } from '../support/reference-tools.js';

const lz4Cli = requireTool('lz4', 'lz4', 'O_DIRECT store objects decoded by the lz4 CLI');

const MiB = 1 << 20;
const disk = diskDir('store-direct');
const diskDirect = acceptsDirect(disk);
const ramfs = mountRamfs();
let n = 0;
const freshDir = (base: string) => `${base}/s${n++}`;

afterAll(() => {
  fs.rmSync(disk, { recursive: true, force: true });
  ramfs?.unmount();
});

/** `lz4 -d < object | sha256sum`, the README's rule, by the reference CLI. */
function lz4Sha(file: string, hash: string): string {
  if (!lz4Cli) return hash; // the line above says this check did not run; the store's own verify still runs
  return execFileSync('sh', ['-c', 'lz4 -dc < "$1" | sha256sum', 'sh', file]).toString().slice(0, 64);
}

describe('BlobStore oDirect', () => {
  it.skipIf(!diskDirect)('writes large objects with O_DIRECT (not left in the page cache); they read back, verify and decode with lz4', async () => {
    // A chunkThreshold above the content keeps it one object (larger content is chunked).
    const store = await BlobStore.open(freshDir(disk), { oDirect: true, chunkThreshold: 4 * MiB });
    try {
      expect(store.backend).toBe('io_uring');
      expect(store.oDirect).toMatchObject({ active: true, threshold: MiB });
      const before = store.oDirect.writes;
      const big = noise(MiB + 4321, 1); // incompressible: a frame just over 1 MiB
      const hash = await store.put(big).then((r) => r.hash);
      expect(hash).toBe(sha256Hex(big));
      expect(store.oDirect.writes - before).toBe(1);
      const file = objectPath(store.root, hash);
      const pages = residentPages(file);
      // Written buffered, all ~258 pages would be resident; directly, at most the tail's page.
      if (pages !== undefined) expect(pages).toBeLessThanOrEqual(1);
      expect(lz4Sha(file, hash)).toBe(hash);
      expect(Buffer.from(await store.get(hash)).equals(big)).toBe(true);
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!diskDirect)('small content stays buffered; the chunks of large content go direct', async () => {
    const store = await BlobStore.open(freshDir(disk), { oDirect: true });
    try {
      let before = store.oDirect.writes;
      const small = noise(64 * 1024, 2);
      await store.put(small).then((r) => r.hash);
      expect(store.oDirect.writes - before).toBe(0);
      before = store.oDirect.writes;
      const large = noise(3 * MiB + 17, 3); // > chunkThreshold: FastCDC chunks of ~64 KiB
      const r = await store.putMany([large]);
      expect(r[0]).toMatchObject({ ok: true, hash: sha256Hex(large) });
      const chunks = r[0]!.ok ? r[0]!.chunks : 0;
      expect(chunks).toBeGreaterThan(1);
      expect(store.oDirect.writes - before).toBe(chunks); // every chunk, not the small manifest
      expect(Buffer.from(await store.get(sha256Hex(large))).equals(large)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it.skipIf(ramfs === undefined)('where the filesystem refuses O_DIRECT (ramfs) objects are written buffered, counted, intact', async () => {
    const store = await BlobStore.open(freshDir(ramfs!.dir), { oDirect: true, oDirectThreshold: 4096 });
    try {
      expect(store.oDirect.active).toBe(true);
      const before = store.oDirect.fallbacks;
      const datas = [noise(MiB, 4), noise(8192 + 5, 5)];
      const hashes = await Promise.all(datas.map((d) => store.put(d).then((r) => r.hash)));
      expect(store.oDirect.fallbacks - before).toBe(2);
      for (const [i, h] of hashes.entries()) {
        expect(Buffer.from(await store.get(h)).equals(datas[i]!)).toBe(true);
        expect(lz4Sha(objectPath(store.root, h), h)).toBe(h);
      }
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('is inactive, with the reason, without io_uring; puts still work', async () => {
    const store = await BlobStore.open(freshDir(disk), { oDirect: true, io: false });
    try {
      expect(store.oDirect.active).toBe(false);
      expect(store.oDirect.reason).toMatch(/io_uring/);
      const d = noise(MiB + 1, 6);
      expect(await store.put(d).then((r) => r.hash)).toBe(sha256Hex(d));
      expect(store.oDirect.writes).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('with sync off, a direct object is still renamed into place and readable', async () => {
    const store = await BlobStore.open(freshDir(disk), { oDirect: true, sync: false, chunkThreshold: 4 * MiB });
    try {
      const d = noise(2 * MiB - 3, 7);
      const before = store.oDirect.writes;
      const h = await store.put(d).then((r) => r.hash);
      expect(store.oDirect.writes - before).toBe(1);
      expect(fs.existsSync(objectPath(store.root, h))).toBe(true);
      expect(fs.readdirSync(`${store.root}/objects/tmp`)).toEqual([]);
      expect(Buffer.from(await store.get(h)).equals(d)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses a bad oDirectThreshold with a configuration ForgeError', async () => {
    await expect(BlobStore.open(freshDir(disk), { oDirect: true, oDirectThreshold: 100 })).rejects.toMatchObject({
      category: 'configuration',
      context: { field: 'oDirectThreshold' },
    });
  });
});
