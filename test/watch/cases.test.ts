/**
 * The watcher's correctness cases, each on every backend (real inotify through
 * io_uring, inotify through poll, recursive fs.watch). A case the fallback
 * cannot meet is skipped there with the reason.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { watch } from '../../host/node/io/watch.js';
import type { InotifyWatchSource } from '../../host/native/linux/inotify-watcher.js';
import { BACKENDS, Collector, awaitNormalInotifyLimits, rmrf, sleep, startWatch, tmpRoot, watchedInodes, writeFiles, type TestWatch } from './helpers.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

linuxOnly.each(BACKENDS)('watcher cases on %s', (kind) => {
  const isFallback = kind === 'fs.watch';
  let root: string;
  let w: TestWatch | undefined;
  let outside: string | undefined;

  beforeEach(async () => {
    await awaitNormalInotifyLimits();
    root = tmpRoot('cases');
  });
  afterEach(async () => {
    await w?.close();
    w = undefined;
    rmrf(root);
    if (outside) rmrf(outside);
    outside = undefined;
  });

  async function start(opts: Parameters<typeof startWatch>[2] = { debounceMs: 20 }): Promise<Collector> {
    w = startWatch(kind, root, opts);
    await w.handle.ready;
    return new Collector(w.handle);
  }

  it('watches a new directory before scanning it: files created in it at once are reported', async () => {
    const c = await start();
    execFileSync('sh', ['-c', 'mkdir -p a/b/c && touch a/b/c/f'], { cwd: root });
    await c.waitFor(() => c.has('a/b/c/f', 'created'), 5000, 'a/b/c/f created');
    for (const d of ['a', 'a/b', 'a/b/c']) expect(c.has(d, 'created')).toBe(true);
    // The new directories are watched: a later write deep inside is seen.
    fs.writeFileSync(path.join(root, 'a/b/c/g'), 'g');
    await c.waitFor(() => c.has('a/b/c/g'), 5000, 'a/b/c/g');
  });

  it.skipIf(isFallback)(
    // fs.watch reports a rename as two unrelated `rename` events (no cookie), so the fallback
    // reports `removed` old + `created` new instead of one `renamed` pair.
    'joins a rename pair by cookie into one renamed change',
    async () => {
      writeFiles(root, ['x/a.txt']);
      const c = await start();
      fs.renameSync(path.join(root, 'x/a.txt'), path.join(root, 'x/b.txt'));
      await c.waitFor((all) => all.some((ch) => ch.kind === 'renamed'), 5000, 'renamed');
      await sleep(60);
      expect(c.changes).toEqual([{ path: 'x/b.txt', kind: 'renamed', oldPath: 'x/a.txt' }]);
    },
  );

  it('reports a rename as removed + created, or as one renamed pair', async () => {
    writeFiles(root, ['x/a.txt']);
    const c = await start();
    fs.renameSync(path.join(root, 'x/a.txt'), path.join(root, 'x/b.txt'));
    await c.waitFor((all) => all.some((ch) => ch.kind === 'renamed') || (c.has('x/a.txt', 'removed') && c.has('x/b.txt', 'created')), 5000, 'rename');
  });

  it('a directory moved into the tree is created and scanned; moved out it is removed and unwatched', async () => {
    outside = tmpRoot('outside');
    writeFiles(outside, ['in/one.txt', 'in/deep/two.txt']);
    const c = await start();
    const before = w!.handle.stats().directoriesWatched;
    fs.renameSync(path.join(outside, 'in'), path.join(root, 'in'));
    await c.waitFor(() => c.has('in/one.txt', 'created') && c.has('in/deep/two.txt', 'created'), 5000, 'moved-in tree');
    expect(w!.handle.stats().directoriesWatched).toBe(before + 2);
    fs.writeFileSync(path.join(root, 'in/deep/three.txt'), '3');
    await c.waitFor(() => c.has('in/deep/three.txt'), 5000, 'write inside the moved-in tree');

    c.clear();
    fs.renameSync(path.join(root, 'in'), path.join(outside, 'gone'));
    await c.waitFor(
      () => ['in', 'in/one.txt', 'in/deep', 'in/deep/two.txt', 'in/deep/three.txt'].every((p) => c.has(p, 'removed')),
      5000,
      'moved-out tree removed',
    );
    expect(w!.handle.stats().directoriesWatched).toBe(before);
    // Its watches are gone: writing there now reports nothing.
    c.clear();
    fs.writeFileSync(path.join(outside, 'gone/deep/four.txt'), '4');
    fs.writeFileSync(path.join(root, 'marker.txt'), 'm');
    await c.waitFor(() => c.has('marker.txt'), 5000, 'marker');
    await sleep(60);
    expect(c.changes.filter((ch) => ch.path.includes('four'))).toEqual([]);
  });

  it("reports an editor's atomic save as one modified of the target; the temp file never surfaces", async () => {
    writeFiles(root, ['src/doc.txt'], 'old');
    const c = await start({ debounceMs: 100 });
    const tmp = path.join(root, 'src/.doc.txt.swp');
    fs.writeFileSync(tmp, 'new content');
    fs.renameSync(tmp, path.join(root, 'src/doc.txt'));
    await c.waitFor(() => c.has('src/doc.txt'), 5000, 'doc.txt');
    await sleep(250);
    expect(c.changes).toEqual([{ path: 'src/doc.txt', kind: 'modified' }]);
    // And the replaced file is still watched (fs.watch on Linux watches inodes, see fallback-watcher.ts).
    c.clear();
    fs.appendFileSync(path.join(root, 'src/doc.txt'), ' more');
    await c.waitFor(() => c.has('src/doc.txt', 'modified'), 5000, 'modified after the save');
  });

  it('deleting a watched directory reports the files under it, unregisters it and keeps running', async () => {
    writeFiles(root, ['sub/a.txt', 'sub/inner/b.txt', 'keep/c.txt']);
    const c = await start();
    const before = w!.handle.stats().directoriesWatched;
    fs.rmSync(path.join(root, 'sub'), { recursive: true });
    await c.waitFor(() => ['sub/a.txt', 'sub/inner/b.txt', 'sub/inner', 'sub'].every((p) => c.has(p, 'removed')), 5000, 'removals under sub');
    expect(w!.handle.stats().directoriesWatched).toBe(before - 2);
    fs.writeFileSync(path.join(root, 'keep/c.txt'), 'changed');
    await c.waitFor(() => c.has('keep/c.txt', 'modified'), 5000, 'still running');
  });

  it('deleting the root reports the removals and ends the iterator cleanly', async () => {
    writeFiles(root, ['a.txt', 'd/b.txt']);
    const c = await start();
    fs.rmSync(root, { recursive: true });
    await Promise.race([
      c.done,
      sleep(5000).then(() => {
        throw new Error('iterator did not end');
      }),
    ]);
    expect(c.error).toBeUndefined();
    for (const p of ['a.txt', 'd/b.txt', 'd']) expect(c.has(p, 'removed')).toBe(true);
  });

  it('does not hang on symlink loops, with followSymlinks on or off', async () => {
    writeFiles(root, ['a/f.txt', 'b/g.txt']);
    fs.symlinkSync(root, path.join(root, 'a/loop')); // a/loop -> root
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'b/to-a')); // b/to-a -> a (alias)
    fs.symlinkSync('self', path.join(root, 'self')); // a link to itself
    for (const followSymlinks of [false, true]) {
      const c = await start({ debounceMs: 10, followSymlinks });
      const s = w!.handle.stats();
      expect(s.directoriesWatched).toBe(3); // root, a, b: each directory once, however many paths lead to it
      fs.writeFileSync(path.join(root, 'a/f.txt'), 'changed');
      await c.waitFor(() => c.has('a/f.txt', 'modified'), 5000, 'a/f.txt');
      await w!.close();
      w = undefined;
    }
  });

  it('does not report changes under ignored paths (defaults and user patterns)', async () => {
    writeFiles(root, ['node_modules/p/index.js', '.git/HEAD', 'build/out.js', 'src/a.ts']);
    const c = await start({ debounceMs: 10, ignore: ['build/**', '*.log'] });
    fs.writeFileSync(path.join(root, 'node_modules/p/index.js'), '1');
    fs.writeFileSync(path.join(root, '.git/HEAD'), '1');
    fs.writeFileSync(path.join(root, 'build/out.js'), '1');
    fs.writeFileSync(path.join(root, 'src/x.log'), '1');
    fs.writeFileSync(path.join(root, 'src/a.ts'), '1');
    await c.waitFor(() => c.has('src/a.ts'), 5000, 'src/a.ts');
    await sleep(60);
    expect(c.changes.map((ch) => ch.path)).toEqual(['src/a.ts']);
  });

  it.skipIf(isFallback)(
    // fs.watch has no exclude option: Node's recursive watcher adds a watch for every file and
    // directory, node_modules included, before the fallback can filter anything.
    'applies ignore patterns before adding watches (no watch on node_modules)',
    async () => {
      writeFiles(root, ['node_modules/a/b/c/i.js', 'node_modules/d/i.js', 'src/lib/a.ts', 'docs/r.md']);
      await start();
      const fd = (w!.handle as unknown as { source: InotifyWatchSource }).source.inotifyFd;
      const inodes = watchedInodes(fd);
      const expected = ['', 'src', 'src/lib', 'docs'].map((d) => fs.statSync(path.join(root, d)).ino.toString(16));
      expect(inodes.sort()).toEqual(expected.sort());
      expect(w!.handle.stats().directoriesWatched).toBe(4);
    },
  );

  it('rejects bad options and a missing root with a ForgeError', async () => {
    expect(() => startWatch(kind, root, { debounceMs: -1 })).toThrow(ForgeError);
    w = startWatch(kind, path.join(root, 'missing'));
    await expect(w.handle.ready).rejects.toMatchObject({ category: 'filesystem', context: { code: 'ENOENT' } });
    const it = w.handle[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(ForgeError);
  });
});

linuxOnly('watch() with the default backend', () => {
  it('uses inotify read through its own io_uring ring and closes it with the watch', async () => {
    await awaitNormalInotifyLimits();
    const root = tmpRoot('default');
    const ringsBefore = fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring');
      } catch {
        return false;
      }
    }).length;
    try {
      const h = watch(root, { debounceMs: 0 });
      await h.ready;
      const c = new Collector(h);
      fs.writeFileSync(path.join(root, 'f'), '1');
      await c.waitFor(() => c.has('f', 'created'), 5000, 'f');
      await h.close();
      await c.done;
      const ringsAfter = fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring');
        } catch {
          return false;
        }
      }).length;
      expect(ringsAfter).toBe(ringsBefore);
    } finally {
      rmrf(root);
    }
  });

  it('closes when its AbortSignal aborts', async () => {
    const root = tmpRoot('abort');
    try {
      const ac = new AbortController();
      const h = watch(root, { signal: ac.signal });
      await h.ready;
      const c = new Collector(h);
      ac.abort();
      await c.done;
      expect(c.error).toBeUndefined();
    } finally {
      rmrf(root);
    }
  });
});
