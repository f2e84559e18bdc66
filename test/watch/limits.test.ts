/**
 * The kernel limits, hit for real: IN_Q_OVERFLOW (max_queued_events lowered)
 * and watch exhaustion (max_user_watches lowered). Both settings are global,
 * so each is lowered only while the watch is being created (the limit is
 * read at inotify_init1 / inotify_add_watch time) and restored in `finally`,
 * under a lock the other watch test files wait on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { requireRoot } from '../support/reference-tools.js';
import {
  BACKENDS,
  Collector,
  rmrf,
  setInotifyLimit,
  sleep,
  startWatch,
  tmpRoot,
  watchesInUseByUser,
  withInotifyLimitLock,
  writeFiles,
  type TestWatch,
} from './helpers.js';

// Lowering the limits writes /proc/sys/fs/inotify: root only (one line says so otherwise), Linux only.
const canSetLimits = process.platform === 'linux' && requireRoot('the inotify limit tests (they write /proc/sys/fs/inotify/*)');
const asRoot = canSetLimits;

describe.skipIf(!canSetLimits).each(BACKENDS)('inotify limits on %s', (kind) => {
  const isFallback = kind === 'fs.watch';
  let root: string | undefined;
  let w: TestWatch | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
    if (root) rmrf(root);
    root = undefined;
  });

  it.skipIf(isFallback || !asRoot)(
    // fs.watch exposes no queue-overflow signal (libuv does not surface IN_Q_OVERFLOW), so the
    // fallback can neither report an overflow nor know when to rescan.
    'IN_Q_OVERFLOW yields an overflow change and a rescan that reports what changed',
    async () => {
      const r = (root = tmpRoot('overflow'));
      writeFiles(r, ['keep.txt', 'edit/a.txt', 'edit/b.txt', 'gone/c.txt', 'flood/.keep']);
      // The start scan does not stat files; a rescan judges them by ctime against the listing
      // time with a 20 ms slack, so files written just before the start would count as changed.
      await sleep(60);
      await withInotifyLimitLock(async () => {
        const old = setInotifyLimit('max_queued_events', 16);
        try {
          w = startWatch(kind, r, { debounceMs: 20 }); // inotify_init1 runs synchronously here
        } finally {
          setInotifyLimit('max_queued_events', old);
        }
      });
      await w!.handle.ready;
      const c = new Collector(w!.handle);
      // Far more than 16 events while the event loop is blocked: the kernel queue overflows.
      const created: string[] = [];
      for (let i = 0; i < 200; i++) {
        // Half into a watched directory (2 events each), half into new ones (found by a scan).
        const rel = i % 2 === 0 ? `flood/f${i}.txt` : `new/d${i % 7}/f${i}.txt`;
        fs.mkdirSync(path.join(r, path.dirname(rel)), { recursive: true });
        fs.writeFileSync(path.join(r, rel), String(i));
        created.push(rel);
      }
      fs.writeFileSync(path.join(r, 'edit/a.txt'), 'a changed, longer');
      fs.writeFileSync(path.join(r, 'edit/b.txt'), 'b changed, longer');
      fs.rmSync(path.join(r, 'gone'), { recursive: true });
      await c.waitFor(() => c.overflowed(), 5000, 'overflow');
      await c.waitFor(
        () => created.every((p) => c.has(p)) && c.has('edit/a.txt') && c.has('edit/b.txt') && c.has('gone/c.txt', 'removed') && c.has('gone', 'removed'),
        5000,
        'every change recovered by the rescan',
      );
      expect(c.changes.some((ch) => ch.path === 'keep.txt')).toBe(false); // the rescan diffs: untouched files stay quiet
      expect(w!.handle.stats().overflows).toBeGreaterThanOrEqual(1);
      // New directories found by the rescan are watched.
      c.clear();
      fs.writeFileSync(path.join(r, 'new/d3/after.txt'), 'x');
      await c.waitFor(() => c.has('new/d3/after.txt', 'created'), 5000, 'after the rescan');
    },
  );

  it.skipIf(isFallback || !asRoot)(
    // Node's recursive fs.watch on Linux swallows the errors it hits while adding its watches
    // (internal/fs/recursive_watch.js catches all but ENOENT), so the fallback cannot tell a
    // partial watch from a complete one.
    'watch exhaustion (ENOSPC) is a ForgeError naming fs.inotify.max_user_watches; the partial watch keeps running',
    async () => {
      const r = (root = tmpRoot('enospc'));
      const dirs = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd10'];
      writeFiles(
        r,
        dirs.map((d) => `${d}/f.txt`),
      );
      const allow = 5;
      // The limit is per user and other processes add and remove watches too: if one took the
      // headroom between counting and registering (so not even the root got a watch), or freed
      // some (so every directory got one), try again.
      let err: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        await withInotifyLimitLock(async () => {
          const old = Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'));
          setInotifyLimit('max_user_watches', watchesInUseByUser() + allow);
          try {
            w = startWatch(kind, r, { debounceMs: 10 }); // every inotify_add_watch runs synchronously here
          } finally {
            setInotifyLimit('max_user_watches', old);
          }
        });
        err = await w!.handle.ready.then(
          () => undefined,
          (e: unknown) => e,
        );
        // A ForgeError is the outcome under test; a start that got every watch means other
        // processes let go of watches between counting and registering: try again.
        if (err instanceof ForgeError && !w!.handle.closed) break;
        await w!.close();
        w = undefined;
      }
      expect(err).toBeInstanceOf(ForgeError);
      const fe = err as ForgeError;
      expect(fe.message).toContain('fs.inotify.max_user_watches');
      expect(fe.context.code).toBe('ENOSPC');
      expect(fe.context.needed).toBe(dirs.length + 1);
      const registered = fe.context.registered as number;
      expect(registered).toBeGreaterThanOrEqual(1);
      expect(registered).toBeLessThan(dirs.length + 1);
      expect(fe.message).toContain(`${dirs.length + 1 - registered} more watches needed`);
      const s = w!.handle.stats();
      expect(s.partial).toBe(true);
      expect(s.directoriesWatched).toBe(registered);
      expect(s.degradedReason).toContain('fs.inotify.max_user_watches');
      // Still running for what was registered (the root is walked first).
      const c = new Collector(w!.handle);
      fs.writeFileSync(path.join(r, 'top.txt'), 'x');
      await c.waitFor(() => c.has('top.txt', 'created'), 5000, 'top.txt');
    },
  );
});
