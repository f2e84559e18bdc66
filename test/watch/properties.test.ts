/**
 * Design properties 5, 6, 14 and 25 of the watcher, as fast-check properties
 * (100 runs each) on both backends: inotify read through io_uring, and the
 * recursive fs.watch fallback. Plus the burst test: 10,000 files rewritten by
 * a child process.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import type { WatcherKind } from '../../host/node/io/watch.js';
import { watchTreeWith } from '../../host/node/io/watch.js';
import type { ManagedWatchHandle } from '../../host/node/watch/handle.js';
import { Collector, awaitNormalInotifyLimits, inotifyUsage, openFds, rmrf, sleep, startWatch, tmpRoot, type TestWatch } from './helpers.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

const PROPERTY_BACKENDS: WatcherKind[] = ['inotify-io_uring', 'fs.watch'];
const DIRS = 500;
const FILES_PER_DIR = 20; // 10,000 files

let big: string;
let bigFiles: string[];

beforeAll(async () => {
  if (process.platform !== 'linux') return;
  await awaitNormalInotifyLimits();
  big = tmpRoot('big');
  bigFiles = [];
  for (let d = 0; d < DIRS; d++) {
    const dir = `g${d % 10}/d${d}`;
    fs.mkdirSync(path.join(big, dir), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      const rel = `${dir}/f${f}.txt`;
      fs.writeFileSync(path.join(big, rel), 'v0');
      bigFiles.push(rel);
    }
  }
});
afterAll(() => {
  if (process.platform === 'linux') rmrf(big);
});

/**
 * libuv opens one inotify fd per event loop the first time fs.watch is used and
 * keeps it (with zero watches) until the loop ends: it belongs to the loop, not
 * to a watch. Priming it before the baseline lets the fd count be exact.
 */
function primeLibuvInotify(kind: WatcherKind): void {
  if (kind === 'fs.watch') fs.watch(os.tmpdir()).close();
}

/** inotify watches held by this process, and inotify fds other than libuv's loop-owned one. */
function ownInotify(kind: WatcherKind): { fds: number; watches: number } {
  const u = inotifyUsage();
  return kind === 'fs.watch' ? { fds: Math.max(0, u.fds - 1), watches: u.watches } : u;
}

/** Waits until the fd table is back to `before` (libuv closes its inotify fd a tick later). */
async function fdsSettleTo(before: string[], ms = 2000): Promise<string[]> {
  const want = [...before].sort().join(',');
  const end = Date.now() + ms;
  let now = openFds();
  while (now.sort().join(',') !== want && Date.now() < end) {
    await sleep(5);
    now = openFds();
  }
  return now;
}

linuxOnly.each(PROPERTY_BACKENDS)('watcher properties on %s', (kind) => {
  it('Property 5: every directory of a 10,000-file tree is watched and a change to any file is detected', async () => {
    const w = startWatch(kind, big, { debounceMs: 0 });
    try {
      await w.handle.ready;
      const s = w.handle.stats();
      expect(s.filesWatched).toBe(DIRS * FILES_PER_DIR);
      expect(s.directoriesWatched).toBe(DIRS + 10 + 1);
      expect(s.partial).toBe(false);
      if (kind !== 'fs.watch') expect(inotifyUsage().watches).toBe(DIRS + 10 + 1); // counted by the kernel
      const c = new Collector(w.handle);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: bigFiles.length - 1 }), fc.boolean(), async (i, append) => {
          const rel = bigFiles[i]!;
          c.clear();
          run++;
          if (append) fs.appendFileSync(path.join(big, rel), `+${run}`);
          else fs.writeFileSync(path.join(big, rel), `v${run}`);
          await c.waitFor((all) => all.some((ch) => ch.path === rel && ch.kind === 'modified'), 5000, `${rel} modified`);
        }),
        { numRuns: 100 },
      );
    } finally {
      await w.close();
    }
  });

  it('Property 6: N rapid writes to one file within the window produce one change', async () => {
    const root = tmpRoot('p6');
    // Existing files are made before the watch starts, so a run never waits for their creation.
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(root, `old${i}.txt`), 'start');
    // The window must cover the time the writes take to be read, also on a loaded machine.
    const w = startWatch(kind, root, { debounceMs: 50 });
    try {
      await w.handle.ready;
      const c = new Collector(w.handle);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 30 }), fc.boolean(), async (n, exists) => {
          const rel = exists ? `old${run++ % 100}.txt` : `new${run++}.txt`;
          const abs = path.join(root, rel);
          c.clear();
          const t0 = performance.now();
          for (let k = 0; k < n; k++) fs.writeFileSync(abs, `write ${k} of run ${run}`);
          const took = performance.now() - t0;
          await c.waitFor((all) => all.some((ch) => ch.path === rel), 5000, `${rel} changed`);
          await sleep(60); // past the window: a second change would have been delivered by now
          // The property is about writes inside one window: a machine that stalled the writes for
          // most of it (a loaded CI runner) did not make such a case, so it does not count.
          fc.pre(took < 25);
          const mine = c.changes.filter((ch) => ch.path === rel);
          expect(mine, JSON.stringify(c.batches)).toEqual([{ path: rel, kind: exists ? 'modified' : 'created' }]);
        }),
        { numRuns: 100 },
      );
    } finally {
      await w.close();
      rmrf(root);
    }
  });

  it('Property 14: zero watch handles and fds after close()', async () => {
    const root = tmpRoot('p14');
    try {
      fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
      primeLibuvInotify(kind);
      const baseline = openFds();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.constantFrom('none', 'ready', 'event'), fc.boolean(), async (newDirs, until, twice) => {
          for (let i = 0; i < newDirs; i++) fs.mkdirSync(path.join(root, `a/b/n${i}`), { recursive: true });
          const w = startWatch(kind, root, { debounceMs: 0 });
          const c = new Collector(w.handle);
          if (until !== 'none') await w.handle.ready;
          if (until === 'event') {
            fs.writeFileSync(path.join(root, 'a/b/e.txt'), String(Math.random()));
            await c.waitFor((all) => all.some((ch) => ch.path === 'a/b/e.txt'), 5000, 'event');
          }
          const closing = w.close();
          if (twice) await w.handle.close();
          await closing;
          await c.done;
          expect(ownInotify(kind)).toEqual({ fds: 0, watches: 0 });
          expect(w.handle.stats().directoriesWatched).toBe(0);
          const after = await fdsSettleTo(baseline);
          expect(after.sort()).toEqual([...baseline].sort());
          for (let i = 0; i < newDirs; i++) fs.rmSync(path.join(root, `a/b/n${i}`), { recursive: true });
        }),
        { numRuns: 100 },
      );
    } finally {
      rmrf(root);
    }
  });

  it('Property 25: overlapping start/stop/close calls in any order leave a consistent state', async () => {
    const root = tmpRoot('p25');
    try {
      fs.mkdirSync(path.join(root, 'd'));
      primeLibuvInotify(kind);
      const baseline = openFds();
      type Cmd = { op: 'start' } | { op: 'close'; i: number } | { op: 'abort'; i: number } | { op: 'closeIo' } | { op: 'ready'; i: number };
      const cmd: fc.Arbitrary<Cmd> = fc.oneof(
        fc.constant<Cmd>({ op: 'start' }),
        fc.nat(5).map<Cmd>((i) => ({ op: 'close', i })),
        fc.nat(5).map<Cmd>((i) => ({ op: 'abort', i })),
        fc.nat(5).map<Cmd>((i) => ({ op: 'ready', i })),
        fc.constant<Cmd>({ op: 'closeIo' }),
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 10 }), async (cmds) => {
          run++;
          // One shared io_uring backend per run (its close() must close its watches too).
          const io = kind === 'inotify-io_uring' ? createIoUringBackend({ entries: 8, fileSlots: 1 }) : undefined;
          let ioClosed = false;
          const live: Array<{ h: ManagedWatchHandle; c: Collector; ac: AbortController; stopped: boolean }> = [];
          const pending: Promise<unknown>[] = [];
          for (const k of cmds) {
            if (k.op === 'start') {
              if (ioClosed) continue; // a closed backend refuses new reads; covered by the io's own tests
              const ac = new AbortController();
              const h = watchTreeWith(kind, root, { debounceMs: 0, signal: ac.signal }, io);
              live.push({ h, c: new Collector(h), ac, stopped: false });
            } else if (k.op === 'closeIo') {
              if (io) {
                ioClosed = true;
                for (const l of live) l.stopped = true;
                pending.push(io.close());
              }
            } else {
              const l = live[k.i % Math.max(1, live.length)];
              if (!l) continue;
              if (k.op === 'close') {
                l.stopped = true;
                pending.push(l.h.close());
              } else if (k.op === 'abort') {
                l.stopped = true;
                l.ac.abort();
              } else pending.push(l.h.ready.catch(() => undefined));
            }
          }
          await Promise.all(pending);
          // Every stopped watch ended its iterator without error; every running one still delivers.
          for (const l of live.filter((x) => x.stopped)) {
            await l.c.done;
            expect(l.c.error).toBeUndefined();
            expect(l.h.closed).toBe(true);
          }
          const running = live.filter((x) => !x.stopped);
          if (running.length > 0) {
            const rel = `d/r${run}.txt`;
            fs.writeFileSync(path.join(root, rel), 'x');
            for (const l of running) {
              await l.h.ready;
              await l.c.waitFor((all) => all.some((ch) => ch.path === rel), 5000, `${rel} on a running watch`);
            }
            fs.rmSync(path.join(root, rel));
          }
          await Promise.all(live.map((l) => l.h.close()));
          await io?.close();
          for (const l of live) await l.c.done;
          expect(ownInotify(kind)).toEqual({ fds: 0, watches: 0 });
          const after = await fdsSettleTo(baseline);
          expect(after.sort()).toEqual([...baseline].sort());
        }),
        { numRuns: 100 },
      );
    } finally {
      rmrf(root);
    }
  });

  it('burst: 10,000 files rewritten by a child process are all reported (or an overflow and a rescan that reports them)', async () => {
    const w: TestWatch = startWatch(kind, big, { debounceMs: 100 });
    try {
      await w.handle.ready;
      const c = new Collector(w.handle);
      const list = path.join(big, '..', `${path.basename(big)}-list.json`);
      fs.writeFileSync(list, JSON.stringify(bigFiles.map((f) => path.join(big, f))));
      const child = spawn(process.execPath, [
        '-e',
        "const fs=require('fs');for(const f of JSON.parse(fs.readFileSync(process.argv[1],'utf8')))fs.writeFileSync(f,'burst');",
        list,
      ]);
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(0);
      fs.rmSync(list);
      const seen = new Set<string>();
      await c.waitFor(
        (all) => {
          for (const ch of all) seen.add(ch.path);
          c.clear();
          return bigFiles.every((f) => seen.has(f));
        },
        20_000,
        'every burst path',
      );
      expect(bigFiles.filter((f) => !seen.has(f))).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
