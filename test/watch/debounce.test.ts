/**
 * The debounce window really merges writes, on the fs.watch fallback as on inotify: writes spread
 * over several turns of the event loop (each seen by the watcher as its own event) inside one
 * window give one change. The same writes with a zero window give one change per write, so a
 * watcher whose debounce was removed fails the first test. (Writes made in one synchronous loop
 * would not show it: the fs.watch source already batches one turn's events.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchTreeWith, type WatcherKind } from '../../host/node/io/watch.js';
import { createIoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import type { PlatformIO } from '../../host/node/base/platform-io.js';
import { Collector, rmrf, sleep, tmpRoot } from './helpers.js';

const KINDS: WatcherKind[] = process.platform === 'linux' ? ['fs.watch', 'inotify-io_uring'] : ['fs.watch'];
const WRITES = 5;
/** Between writes: several event-loop turns, far below the window. */
const GAP_MS = 25;

async function run(kind: WatcherKind, debounceMs: number): Promise<{ changes: number; events: number }> {
  const root = tmpRoot('debounce');
  const file = path.join(root, 'f.txt');
  fs.writeFileSync(file, 'start');
  const io: PlatformIO | undefined = kind === 'inotify-io_uring' ? createIoUringBackend({ entries: 8, fileSlots: 1 }) : undefined;
  const h = watchTreeWith(kind, root, { debounceMs }, io);
  const c = new Collector(h);
  try {
    await h.ready;
    const events0 = h.stats().eventsSeen;
    for (let k = 0; k < WRITES; k++) {
      fs.writeFileSync(file, `write ${k}`);
      await sleep(GAP_MS);
    }
    await c.waitFor((all) => all.some((ch) => ch.path === 'f.txt'), 10_000, 'f.txt changed');
    // Past the window of the last write: anything not merged has been delivered by now.
    await sleep(debounceMs + 300);
    return { changes: c.changes.filter((ch) => ch.path === 'f.txt').length, events: h.stats().eventsSeen - events0 };
  } finally {
    await h.close();
    await c.done;
    await io?.close();
    rmrf(root);
  }
}

describe.each(KINDS)('debounce on %s', (kind) => {
  it('writes spread over one window (each its own event) are one change', async () => {
    const { changes, events } = await run(kind, 1500);
    expect(events).toBeGreaterThanOrEqual(WRITES); // the watcher did see every write
    expect(changes).toBe(1);
  }, 30_000);

  it('control: with a zero window the same writes are several changes', async () => {
    const { changes } = await run(kind, 0);
    expect(changes).toBeGreaterThan(1);
  }, 30_000);
});
