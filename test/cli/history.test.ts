/**
 * The recorder on its own (real SQLite index, real blob store, real files),
 * fed watcher-shaped change batches: directory renames and removals, editor
 * atomic saves, vanished files, ignored paths, unchanged content.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Index } from '../../host/node/index-db/index.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { HistoryRecorder } from '../../host/node/history/record.js';
import { daemonIgnore, walkTree } from '../../host/node/history/tree-scan.js';
import { reconcile } from '../../host/node/history/reconcile.js';
import type { Change, ReadResult } from '../../host/node/base/platform-io.js';
import { toForgeError } from '../../host/node/base/errors.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const quiet = { debug: () => undefined, warn: () => undefined };
// A plain node:fs reader: the recorder's contract is batchRead's, whatever the backend.
const io = {
  backend: 'fallback',
  async batchRead(paths: readonly string[]): Promise<ReadResult[]> {
    return paths.map((p) => {
      try {
        return { ok: true as const, data: fs.readFileSync(p) };
      } catch (e) {
        return { ok: false as const, error: toForgeError(e, { file: p, operation: 'read' }) };
      }
    });
  },
};

let root: string;
let index: Index;
let store: BlobStore;
let rec: HistoryRecorder;
const walk = (): { storeDir: string } => ({ storeDir: path.join(root, '.forge') });

function write(rel: string, data: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), data);
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-history-'));
  store = await BlobStore.open(path.join(root, '.forge'), { workers: 0 });
  index = await Index.open(path.join(root, '.forge', 'index.db'));
  rec = new HistoryRecorder(root, io, store, index, quiet, { walk: walk() });
});
afterEach(async () => {
  await index.close();
  await store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const kinds = async (p: string): Promise<string[]> => (await index.versions(p)).map((v) => v.kind);
const apply = (changes: Change[]) => rec.applyChanges(changes, daemonIgnore(root, walk()));

describe('HistoryRecorder', () => {
  it('scan, then a directory rename records each file as renamed and the old paths as removed', async () => {
    write('dir/a.txt', 'A');
    write('dir/sub/b.txt', 'B');
    write('keep.txt', 'K');
    const r = await reconcile(root, index, rec, walk());
    expect(r.firstScan).toBe(true);
    expect(r.tally.recorded).toBe(3);
    fs.renameSync(path.join(root, 'dir'), path.join(root, 'moved'));
    await apply([{ kind: 'renamed', path: 'moved', oldPath: 'dir' }]);
    const a = await index.latest('moved/a.txt');
    expect(a?.kind).toBe('renamed');
    expect(a?.oldPath).toBe('dir/a.txt');
    expect(a?.hash).toBe(sha('A'));
    expect((await index.latest('moved/sub/b.txt'))?.oldPath).toBe('dir/sub/b.txt');
    expect(await kinds('dir/a.txt')).toEqual(['created', 'removed']);
    expect(await kinds('dir/sub/b.txt')).toEqual(['created', 'removed']);
    expect(await kinds('keep.txt')).toEqual(['created']);
  });

  it('a removed directory removes every live file under it', async () => {
    write('d/x.txt', 'x');
    write('d/e/y.txt', 'y');
    write('dd.txt', 'not under d/');
    await reconcile(root, index, rec, walk());
    fs.rmSync(path.join(root, 'd'), { recursive: true });
    const { tally } = await apply([{ kind: 'removed', path: 'd' }]);
    expect(tally.removed).toBe(2);
    expect((await index.files()).map((v) => v.path)).toEqual(['dd.txt']);
  });

  it('an atomic save (rename of an unrecorded temp file over the target) is a modification', async () => {
    write('doc.md', 'v1');
    await reconcile(root, index, rec, walk());
    write('.doc.md.swp', 'v2');
    fs.renameSync(path.join(root, '.doc.md.swp'), path.join(root, 'doc.md'));
    await apply([{ kind: 'renamed', path: 'doc.md', oldPath: '.doc.md.swp' }]);
    expect(await kinds('doc.md')).toEqual(['created', 'modified']);
    expect((await index.latest('doc.md'))?.hash).toBe(sha('v2'));
    expect(await index.versions('.doc.md.swp')).toEqual([]);
  });

  it('unchanged content is not recorded again; a vanished file becomes a removal; ignored paths are skipped', async () => {
    write('a.txt', 'same');
    write('gone.txt', 'soon gone');
    await reconcile(root, index, rec, walk());
    write('a.txt', 'same');
    fs.rmSync(path.join(root, 'gone.txt'));
    write('node_modules/x/i.js', 'ignored');
    write('.forge-not-store.txt', 'recorded');
    const { tally } = await apply([
      { kind: 'modified', path: 'a.txt' },
      { kind: 'modified', path: 'gone.txt' },
      { kind: 'created', path: 'node_modules/x/i.js' },
      { kind: 'created', path: '.forge/objects/tmp/zzz' },
      { kind: 'created', path: '.forge-not-store.txt' },
    ]);
    expect(tally.unchanged).toBe(1);
    expect(await kinds('a.txt')).toEqual(['created']);
    expect(await kinds('gone.txt')).toEqual(['created', 'removed']);
    expect(await index.versions('node_modules/x/i.js')).toEqual([]);
    expect(await kinds('.forge-not-store.txt')).toEqual(['created']);
    expect((await index.stats()).versions).toBe(4);
  });

  it('an overflow asks for a catch-up, and the catch-up finds what changed', async () => {
    write('a.txt', '1');
    write('b.txt', '1');
    await reconcile(root, index, rec, walk());
    expect(
      (
        await apply([
          { kind: 'overflow', path: '' },
          { kind: 'modified', path: 'a.txt' },
        ])
      ).overflow,
    ).toBe(true);
    write('a.txt', '2');
    fs.rmSync(path.join(root, 'b.txt'));
    write('c.txt', '3');
    const r = await reconcile(root, index, rec, walk());
    expect(r.firstScan).toBe(false);
    expect(r.plan.toStore).toBe(2);
    expect(r.plan.toRemove).toBe(1);
    expect(await kinds('a.txt')).toEqual(['created', 'modified']);
    expect(await kinds('b.txt')).toEqual(['created', 'removed']);
    expect(
      walkTree(root, walk())
        .files.map((f) => f.path)
        .sort(),
    ).toEqual(['a.txt', 'c.txt']);
  });
});
