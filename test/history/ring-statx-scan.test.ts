/**
 * The scan's walk with lstat through the io_uring ring (walkBatchesWith + IoUringBackend.lstatMany)
 * against the walk with lstatSync: the same files with the same facts, the same counts, and a first
 * scan that records the same index, which equals find(1)'s file list with sha256sum's digests.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { Index } from '../../host/node/index-db/index.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { HistoryRecorder } from '../../host/node/history/record.js';
import { emptyWalkStats, walkBatches, walkBatchesWith, type FileFacts } from '../../host/node/history/tree-scan.js';
import { reconcile } from '../../host/node/history/reconcile.js';
import { createIoUringBackend, type IoUringBackend } from '../../host/native/linux/io-uring-backend.js';

const quiet = { debug: () => undefined, warn: () => undefined };
let root: string;
let io: IoUringBackend;

function write(rel: string, data: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), data);
}

function findFiles(dir: string): string[] {
  return execFileSync('find', ['.', '-name', '.forge*', '-prune', '-o', '-type', 'f', '-print'], { cwd: dir, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice(2))
    .sort();
}

/** A tree with files of many sizes, empty files, symlinks (to a file, dangling, to a directory), a FIFO and an ignored subtree. */
function makeTree(): void {
  for (let i = 0; i < 700; i++) write(`a${i % 9}/b${i % 4}/f${i}.txt`, 'z'.repeat(i % 300));
  write('empty', '');
  write('.gitignore', 'ign/\n');
  write('ign/x', 'not recorded');
  fs.symlinkSync('empty', path.join(root, 'link'));
  fs.symlinkSync('/nowhere', path.join(root, 'dangling'));
  fs.symlinkSync('a0', path.join(root, 'dirlink'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
}

const byPath = (a: FileFacts, b: FileFacts): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-statx-scan-'));
  io = createIoUringBackend({ entries: 32 });
});
afterEach(async () => {
  await io.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.platform !== 'linux')('scan with lstat through the ring', () => {
  it('walks the same files with the same facts and counts as the lstatSync walk', async () => {
    makeTree();
    const a = emptyWalkStats();
    const b = emptyWalkStats();
    const sync = [...walkBatches(root, {}, a, '', 50)].flat().sort(byPath);
    const ring: FileFacts[] = [];
    for await (const batch of walkBatchesWith((p) => io.lstatMany(p), root, {}, b, '', 50)) {
      expect(batch.length).toBeLessThanOrEqual(50);
      ring.push(...batch);
    }
    ring.sort(byPath);
    expect(ring).toEqual(sync);
    expect(b).toEqual(a);
    expect(ring.map((f) => f.path)).toEqual(findFiles(root).filter((p) => !p.startsWith('ign/')));
    expect(b.skipped).toBe(4); // three symlinks and the FIFO
  });

  it('reports a file that vanished between listing and lstat as nothing, and an unreadable one as a problem', async () => {
    write('d/keep', 'k');
    const stats = emptyWalkStats();
    // A lstatMany that answers ENOENT for one path and EACCES for another, as a race or a permission would.
    const lstatMany = async (paths: readonly string[]) => {
      const got = await io.lstatMany(paths);
      return got.map((r, i) => (paths[i]!.endsWith('gone') ? -os.constants.errno.ENOENT : paths[i]!.endsWith('locked') ? -os.constants.errno.EACCES : r));
    };
    write('d/gone', 'g');
    write('d/locked', 'l');
    const files = [];
    for await (const batch of walkBatchesWith(lstatMany, root, {}, stats)) files.push(...batch.map((f) => f.path));
    expect(files).toEqual(['d/keep']);
    expect(stats.problems).toEqual(['d/locked: EACCES']);
    expect(stats.files).toBe(1);
  });

  it('a first scan through the ring records the same index as one with lstatSync, equal to find and sha256sum', async () => {
    makeTree();
    const scan = async (dir: string, withRing: boolean) => {
      // Stores outside the tree: neither scan may see the other's store.
      const storeDir = path.join(`${root}-stores`, dir);
      const store = await BlobStore.open(storeDir, { io });
      const index = await Index.open(path.join(storeDir, 'index.db'));
      try {
        const reader = withRing ? io : { backend: io.backend, batchRead: io.batchRead.bind(io) };
        const rec = new HistoryRecorder(root, reader, store, index, quiet, { walk: { storeDir }, batchFiles: 64, concurrency: 3 });
        expect(rec.lstatMany !== undefined).toBe(withRing);
        const r = await reconcile(root, index, rec, { storeDir });
        return { r, live: (await index.files()).map((v) => ({ path: v.path, hash: v.hash, size: v.size, mode: v.mode, mtimeMs: v.mtimeMs, ino: v.ino })) };
      } finally {
        await index.close();
        await store.close();
      }
    };
    onTestFinished(() => fs.rmSync(`${root}-stores`, { recursive: true, force: true }));
    const viaRing = await scan('ring', true);
    const viaSync = await scan('sync', false);
    expect(viaRing.live).toEqual(viaSync.live);
    expect(viaRing.r.walk).toEqual(viaSync.r.walk);
    const files = findFiles(root).filter((p) => !p.startsWith('ign/'));
    expect(viaRing.live.map((v) => v.path)).toEqual(files);
    const sums = new Map(
      execFileSync('sha256sum', ['--', ...files], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 })
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(66), l.slice(0, 64)]),
    );
    for (const v of viaRing.live) expect(v.hash).toBe(sums.get(v.path));
    expect(viaRing.r.tally.recorded).toBe(files.length);
  });
});
