/**
 * Shared helpers for the watcher tests: temp trees, a collector that drains a
 * handle in the background, inotify/fd accounting from /proc, and the lock
 * that keeps the tests lowering global inotify limits apart from the rest.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createIoUringBackend, type IoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import type { Change, WatchHandle, WatchOptions } from '../../host/node/base/platform-io.js';
import { watchTreeWith, type WatcherKind } from '../../host/node/io/watch.js';
import type { ManagedWatchHandle } from '../../host/node/watch/handle.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every backend the suite runs each case on. */
export const BACKENDS: WatcherKind[] = ['inotify-io_uring', 'inotify-poll', 'fs.watch'];

export function tmpRoot(tag: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `forge-watch-${tag}-`)));
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}

/** A watch on `kind`, with its own io_uring backend when it needs one (closed with the watch). */
export interface TestWatch {
  handle: ManagedWatchHandle;
  io?: IoUringBackend;
  close(): Promise<void>;
}

export function startWatch(kind: WatcherKind, root: string, options?: WatchOptions): TestWatch {
  waitNormalInotifyLimitsSync();
  const io = kind === 'inotify-io_uring' ? createIoUringBackend({ entries: 8, fileSlots: 1 }) : undefined;
  const handle = watchTreeWith(kind, root, options, io);
  return {
    handle,
    ...(io ? { io } : {}),
    close: async () => {
      await handle.close();
      await io?.close();
    },
  };
}

/** Drains a handle in the background, keeping every change and batch. */
export class Collector {
  readonly batches: Change[][] = [];
  readonly done: Promise<void>;
  error: unknown;

  constructor(handle: WatchHandle) {
    this.done = (async () => {
      try {
        for await (const b of handle) this.batches.push(b);
      } catch (e) {
        this.error = e;
      }
    })();
  }

  get changes(): Change[] {
    return this.batches.flat();
  }

  has(p: string, kind?: Change['kind']): boolean {
    return this.changes.some((c) => c.path === p && (kind === undefined || c.kind === kind));
  }

  overflowed(): boolean {
    return this.changes.some((c) => c.kind === 'overflow');
  }

  /** Waits until `pred` holds over all changes so far; throws with what was seen on timeout. */
  async waitFor(pred: (all: Change[]) => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.changes)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.changes).slice(0, 2000)}`);
      await sleep(5);
    }
  }

  clear(): void {
    this.batches.length = 0;
  }
}

/** inotify fds and watches this process holds, from /proc/self/fdinfo. */
export function inotifyUsage(): { fds: number; watches: number } {
  let fds = 0;
  let watches = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let info: string;
    try {
      info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const m = info.match(/^inotify wd:/gm);
    if (m || /inotify/.test(fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'utf8' }) ?? '')) {
      fds++;
      watches += m?.length ?? 0;
    }
  }
  return { fds, watches };
}

/** Watches held on the inotify fd `fd`, with the inode of each (hex, as fdinfo prints it). */
export function watchedInodes(fd: number): string[] {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return [...info.matchAll(/^inotify wd:\S+ ino:(\S+)/gm)].map((m) => m[1]!);
}

/** Open fds of this process. */
export function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd');
}

/**
 * Cross-process lock for tests that lower a global inotify limit: other watch
 * test files take it too, so they never start a watch inside that window.
 */
export async function withInotifyLimitLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), 'forge-watch-inotify-limits.lock');
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than a minute belongs to a crashed run.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 60_000) fs.rmdirSync(lock);
      } catch {
        // someone else removed it
      }
      if (Date.now() > end) throw new Error('could not take the inotify limits lock');
      await sleep(20);
    }
  }
  lockOwner = true;
  try {
    return await fn();
  } finally {
    lockOwner = false;
    fs.rmdirSync(lock);
  }
}

/** Sets /proc/sys/fs/inotify/<name>, returning the old value. */
export function setInotifyLimit(name: 'max_queued_events' | 'max_user_watches', value: number): number {
  const p = `/proc/sys/fs/inotify/${name}`;
  const old = Number(fs.readFileSync(p, 'utf8').trim());
  fs.writeFileSync(p, String(value));
  return old;
}

/** Inotify watches in use by this user across all processes (what max_user_watches counts). */
export function watchesInUseByUser(): number {
  let n = 0;
  const uid = process.getuid?.() ?? 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.statSync(`/proc/${pid}`).uid !== uid) continue;
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (!fs.readlinkSync(`/proc/${pid}/fd/${fd}`).includes('inotify')) continue;
          const m = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm);
          n += m?.length ?? 0;
        } catch {
          // fd closed meanwhile
        }
      }
    } catch {
      // process gone
    }
  }
  return n;
}

/** Creates files (and their directories) with small contents. */
export function writeFiles(root: string, rels: string[], content = 'x'): void {
  for (const r of rels) {
    fs.mkdirSync(path.dirname(path.join(root, r)), { recursive: true });
    fs.writeFileSync(path.join(root, r), content);
  }
}

const LIMITS_LOCK = path.join(os.tmpdir(), 'forge-watch-inotify-limits.lock');
let lockOwner = false;

/** Blocks (briefly) while another test file has a global inotify limit lowered; the window is milliseconds. */
function waitNormalInotifyLimitsSync(): void {
  if (lockOwner) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + 10_000;
  while (fs.existsSync(LIMITS_LOCK) && Date.now() < end) Atomics.wait(cell, 0, 0, 2);
}

/** Waits while a test elsewhere has a global inotify limit lowered (see {@link withInotifyLimitLock}). */
export async function awaitNormalInotifyLimits(): Promise<void> {
  const lock = path.join(os.tmpdir(), 'forge-watch-inotify-limits.lock');
  const end = Date.now() + 60_000;
  while (fs.existsSync(lock) && Date.now() < end) await sleep(10);
}
