/**
 * The standalone watch() opens the io_uring ring that reads its inotify fd only after the start's
 * walk (so ring setup is not in the time to ready). Nothing may be lost meanwhile: files created
 * by another process while the walk runs, and files created right after `ready` (the ring not open
 * yet, checked in /proc/self/fd), must all be known to the watcher. What exists is taken from
 * find(1), never from the watcher.
 */
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { watch } from '../../host/node/io/watch.js';
import { Collector, rmrf, tmpRoot } from './helpers.js';

/** io_uring fds this process holds, as the kernel lists them. */
function ringFds(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[io_uring]') n++;
    } catch {
      // closed while listed
    }
  }
  return n;
}

/** Every regular file below `root`, root-relative, as find(1) sees it. */
function findFiles(root: string): string[] {
  const out = execFileSync('find', ['.', '-type', 'f'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(2))
    .sort();
}

describe.skipIf(process.platform !== 'linux')('standalone watch(): the ring opens after ready, nothing lost', () => {
  test.each([
    { name: 'io_uring', disabled: undefined, watcher: 'inotify-io_uring', rings: 1 },
    // The ring is refused once the walk is done: the blocking fd is made non-blocking and polled.
    { name: 'a kernel that refuses a ring (simulated)', disabled: '2', watcher: 'inotify-poll', rings: 0 },
  ])('$name: files created during the walk and before the reader exists are all known', async ({ disabled, watcher, rings }) => {
    const saved = process.env.FORGE_TEST_IO_URING_DISABLED;
    if (disabled === undefined) delete process.env.FORGE_TEST_IO_URING_DISABLED;
    else process.env.FORGE_TEST_IO_URING_DISABLED = disabled;
    const root = tmpRoot('late-ring');
    // A tree big enough that the walk takes a while, so the writer below overlaps it.
    for (let d = 0; d < 40; d++) {
      fs.mkdirSync(path.join(root, `old${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(root, `old${d}`, 'sub', `f${f}`), 'v0');
    }
    const ringsBefore = ringFds();
    // Another process creates files (and directories) in old and new places while the watch starts.
    const writer = spawn(
      'sh',
      ['-c', 'i=0; while [ $i -lt 400 ]; do d=$((i % 40)); mkdir -p new$((i % 9))/x; echo > old$d/sub/w$i; echo > new$((i % 9))/x/w$i; i=$((i+1)); done'],
      { cwd: root, stdio: 'ignore' },
    );
    const writerDone = new Promise<number | null>((r) => writer.on('exit', (code) => r(code)));
    const w = watch(root, { debounceMs: 10 });
    const c = new Collector(w);
    try {
      await w.ready;
      // Still on ready's continuation: the ring is not open yet, so these wait in the inotify queue.
      const ringsAtReady = ringFds();
      const after: string[] = [];
      for (let i = 0; i < 50; i++) {
        const rel = `old${i % 40}/sub/after${i}`;
        fs.writeFileSync(path.join(root, rel), 'a');
        after.push(rel);
      }
      expect(ringsAtReady).toBe(ringsBefore);
      expect(await writerDone).toBe(0);
      await c.waitFor((all) => after.every((p) => all.some((ch) => ch.path === p && ch.kind === 'created')), 10_000, 'post-ready files created');
      // The queue is ordered: once a file written last is reported, every earlier event was handled.
      fs.writeFileSync(path.join(root, 'last'), 'z');
      await c.waitFor((all) => all.some((ch) => ch.path === 'last'), 10_000, 'last reported');
      expect(w.stats().watcher).toBe(watcher);
      expect(ringFds()).toBe(ringsBefore + rings);

      // Whatever exists now must be known to the watcher: removing it all must report each file
      // (the watcher reports a removal only for a path it knew, from its walk or from an event).
      const existing = findFiles(root);
      expect(existing.length).toBe(40 * 20 + 400 * 2 + 50 + 1);
      for (const e of fs.readdirSync(root)) fs.rmSync(path.join(root, e), { recursive: true, force: true });
      await c
        .waitFor(
          (all) => {
            const removed = new Set(all.filter((ch) => ch.kind === 'removed').map((ch) => ch.path));
            return existing.every((p) => removed.has(p));
          },
          10_000,
          'every file removed',
        )
        .catch((e: Error) => {
          const removed = new Set(c.changes.filter((ch) => ch.kind === 'removed').map((ch) => ch.path));
          throw new Error(
            `not reported removed: ${existing
              .filter((p) => !removed.has(p))
              .slice(0, 20)
              .join(' ')}; removed seen: ${[...removed].slice(0, 20).join(' ')}`,
            { cause: e },
          );
        });
      expect(c.changes.some((ch) => ch.kind === 'overflow')).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.FORGE_TEST_IO_URING_DISABLED;
      else process.env.FORGE_TEST_IO_URING_DISABLED = saved;
      writer.kill();
      await w.close();
      await c.done;
      rmrf(root);
    }
    expect(ringFds()).toBe(ringsBefore);
  });
});

describe.skipIf(process.platform !== 'linux')('standalone watch(): configuration of the late ring', () => {
  test('a bad FORGE_MAX_FILE_HANDLES rejects ready with a configuration ForgeError, before any watch', async () => {
    const root = tmpRoot('late-ring-config');
    const old = process.env.FORGE_MAX_FILE_HANDLES;
    process.env.FORGE_MAX_FILE_HANDLES = '0';
    const h = watch(root, { debounceMs: 10 });
    try {
      const err = await h.ready.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).category).toBe('configuration');
      expect((err as ForgeError).message).toContain('FORGE_MAX_FILE_HANDLES');
    } finally {
      if (old === undefined) delete process.env.FORGE_MAX_FILE_HANDLES;
      else process.env.FORGE_MAX_FILE_HANDLES = old;
      await h.close();
      rmrf(root);
    }
  });
});
