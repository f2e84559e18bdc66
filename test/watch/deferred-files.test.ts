/**
 * The start's walk defers its plain files (ScanOptions.deferFiles): directories are watched and
 * listed before `ready`, and each listing's files are decoded into the snapshot afterwards. These
 * tests check that the deferred files end up exactly as find(1) lists them, and that a watch whose
 * files were deferred reports changes to them as an eager scan would (modified, not created;
 * removed, not dropped).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GetdentsLister, parseNonFiles } from '../../host/native/linux/inotify-listing.js';
import { watch } from '../../host/node/io/watch.js';
import { compileIgnore } from '../../host/node/watch/ignore.js';
import { recordDeferredFiles, scanTree, type DeferredListing, type ScanOptions, type Snapshot } from '../../host/node/watch/scan.js';
import { Collector, rmrf, tmpRoot } from './helpers.js';

const linuxOnly = describe.skipIf(process.platform !== 'linux');
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmrf(r);
});

/** `rel\ttype` (find's %P and %y) for everything under `root`, names decoded as Node decodes a path. */
function findAll(root: string): string[] {
  const r = spawnSync('find', [root, '-mindepth', '1', '-printf', '%P\\0%y\\0']);
  expect(r.status).toBe(0);
  const parts = r.stdout.toString('utf8').split('\0');
  const out: string[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push(`${parts[i]}\t${parts[i + 1]}`);
  return out.sort();
}

/** A tree with what the walk treats differently: files, links, a FIFO, a directory of several getdents64 chunks, ignored names, a name that is not UTF-8. */
function makeTree(tag: string): string {
  const root = tmpRoot(tag);
  roots.push(root);
  fs.mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  fs.mkdirSync(path.join(root, 'node_modules/pkg'), { recursive: true });
  fs.mkdirSync(path.join(root, 'big'));
  fs.writeFileSync(path.join(root, 'top.txt'), 'x');
  fs.writeFileSync(path.join(root, 'a/one.txt'), 'x');
  fs.writeFileSync(path.join(root, 'a/b/c/deep.txt'), 'x');
  fs.writeFileSync(path.join(root, 'a/b/skip.log'), 'x');
  fs.writeFileSync(path.join(root, 'node_modules/pkg/index.js'), 'x');
  fs.symlinkSync('top.txt', path.join(root, 'a/to-file'));
  fs.symlinkSync('b', path.join(root, 'a/to-dir'));
  expect(spawnSync('mkfifo', [path.join(root, 'a/fifo')]).status).toBe(0);
  fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/a/`), Buffer.from([0x62, 0xff, 0xfe])]), 'x');
  // ~190 KiB of records: several 64 KiB getdents64 calls, each chunk kept on its own.
  for (let i = 0; i < 2500; i++) fs.writeFileSync(path.join(root, 'big', `${String(i).padStart(5, '0')}-${'n'.repeat(50)}`), '');
  return root;
}

function scanOptions(ignore: string[], lister: GetdentsLister, unaddressable: string[]): ScanOptions {
  return {
    ignored: compileIgnore(ignore),
    followSymlinks: false,
    seenDirs: new Map(),
    lister,
    statFiles: false,
    onUnaddressable: (rel, why) => unaddressable.push(`${rel}\t${why}`),
  };
}

const entriesOf = (snap: Snapshot): string[] => [...snap].map(([rel, e]) => `${rel}\t${e.dir ? 'd' : 'x'}`).sort();

linuxOnly('deferred files of the start scan', () => {
  for (const ignore of [[], ['*.log']]) {
    it(`recorded later, they are what find lists (ignore ${JSON.stringify(ignore)}); before, only directories are recorded`, () => {
      const root = makeTree(`deferred-${ignore.length}`);
      const unaddressable: string[] = [];
      const lister = new GetdentsLister();
      const snap: Snapshot = new Map();
      const deferred: DeferredListing[] = [];
      const opts = scanOptions(ignore, lister, unaddressable);
      scanTree(root, '', snap, { ...opts, deferFiles: deferred });
      // Before: the directories and the entries that are not plain files (the FIFO, statted).
      expect([...snap].filter(([, e]) => !e.dir).map(([rel]) => rel)).toEqual(['a/fifo']);
      expect(deferred.find((l) => l.rel === 'big')!.raw.length).toBeGreaterThan(1);
      expect(unaddressable).toEqual([]);
      const r = recordDeferredFiles(snap, opts, deferred);
      expect(r.problems).toEqual([]);
      // find, less the default ignores (node_modules and below), the user's, and the name no string names.
      const ignoredByTest = (rel: string): boolean =>
        rel === 'node_modules' || rel.startsWith('node_modules/') || (ignore.length > 0 && rel.endsWith('.log')) || rel.includes('\uFFFD');
      const expected = findAll(root)
        .filter((l) => !ignoredByTest(l.split('\t')[0]!))
        .map((l) => l.replace(/\t(.)$/, (_m, y: string) => `\t${y === 'd' ? 'd' : 'x'}`))
        .sort();
      expect(expected.length).toBeGreaterThan(2500);
      expect(entriesOf(snap)).toEqual(expected);
      expect(unaddressable).toEqual(['a/b\uFFFD\uFFFD\tnot-utf8']);
      // The same snapshot as an eager scan of the same tree.
      const eager: Snapshot = new Map();
      scanTree(root, '', eager, scanOptions(ignore, new GetdentsLister(), []));
      expect(entriesOf(snap)).toEqual(entriesOf(eager));
    });
  }

  it('parseNonFiles skips regular files (and links when not followed) and says so', () => {
    const root = makeTree('deferred-parse');
    // One listing of `a` through the lister, then its kept chunk decoded in full.
    const lister = new GetdentsLister();
    const names: string[] = [];
    const types: number[] = [];
    const raw: Uint8Array[] = [];
    expect(lister.listDirsOnly(path.join(root, 'a'), names, types, false, raw)).toBeUndefined();
    expect(names.sort()).toEqual(['b', 'fifo']);
    expect(raw.length).toBe(1);
    const all: string[] = [];
    lister.decodeRaw(raw[0]!, all, []);
    expect(all.sort()).toEqual(['b', 'b\uFFFD\uFFFD', 'fifo', 'one.txt', 'to-dir', 'to-file']);
    // Following links: the links are decoded now (the walk stats them), files still skipped.
    const buf = Buffer.from(raw[0]!);
    const n2: string[] = [];
    expect(parseNonFiles(buf, buf.length, n2, [], true)).toBe(true);
    expect(n2.sort()).toEqual(['b', 'fifo', 'to-dir', 'to-file']);
    // A listing without plain files keeps nothing.
    const raw2: Uint8Array[] = [];
    expect(lister.listDirsOnly(path.join(root, 'a/b'), names, types, false, raw2)).toBeUndefined();
    expect(raw2.length).toBe(1); // skip.log
    expect(lister.listDirsOnly(path.join(root, 'node_modules'), names, types, false, raw2)).toBeUndefined();
    expect(raw2.length).toBe(1);
    expect(names).toEqual(['pkg']);
  });

  it('right after ready (before the deferred files are recorded), a write is reported as modified, a delete as removed, and stats count every file', async () => {
    const root = tmpRoot('deferred-watch');
    roots.push(root);
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(root, `d${d}`));
      for (let f = 0; f < 10; f++) fs.writeFileSync(path.join(root, `d${d}`, `f${f}.txt`), 'v0');
    }
    const h = watch(root, { debounceMs: 0 });
    try {
      await h.ready;
      // Synchronously after ready: stats() must record the deferred files first.
      const files = spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n').length;
      expect(files).toBe(200);
      expect(h.stats().filesWatched).toBe(files);
      const c = new Collector(h);
      fs.writeFileSync(path.join(root, 'd7/f3.txt'), 'v1');
      fs.rmSync(path.join(root, 'd11/f9.txt'));
      await c.waitFor((all) => all.some((x) => x.path === 'd7/f3.txt') && all.some((x) => x.path === 'd11/f9.txt'), 5000, 'd7/f3.txt and d11/f9.txt');
      expect(c.changes.find((x) => x.path === 'd7/f3.txt')!.kind).toBe('modified');
      expect(c.changes.find((x) => x.path === 'd11/f9.txt')!.kind).toBe('removed');
    } finally {
      await h.close();
    }
  });
});
