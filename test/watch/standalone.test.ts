/**
 * The standalone watch() chooses its watcher as io.watch() does: on Linux inotify read through an
 * io_uring ring of its own; inotify read by poll(2) when the kernel refuses a ring; fs.watch only
 * when the fallback is forced. Each case also shows that changes arrive.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { watch, watcherKindFor } from '../../host/node/io/watch.js';
import { Collector, rmrf, tmpRoot } from './helpers.js';

const ENV = ['FORGE_IO_BACKEND', 'FORGE_TEST_IO_URING_DISABLED'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

async function watcherAndCreate(env: Partial<Record<(typeof ENV)[number], string>>): Promise<string | undefined> {
  Object.assign(process.env, env);
  const root = tmpRoot('standalone');
  const w = watch(root, { debounceMs: 20 });
  const c = new Collector(w);
  try {
    await w.ready;
    fs.writeFileSync(path.join(root, 'new.txt'), 'x');
    await c.waitFor((changes) => changes.some((ch) => ch.path === 'new.txt'), 10_000, 'new.txt reported');
    return w.stats().watcher;
  } finally {
    await w.close();
    await c.done;
    rmrf(root);
  }
}

describe.skipIf(process.platform !== 'linux')('standalone watch() picks the watcher io.watch() would', () => {
  test('Linux: inotify through its own io_uring ring', async () => {
    expect(watcherKindFor()).toBe('inotify-io_uring');
    expect(await watcherAndCreate({})).toBe('inotify-io_uring');
  });
  test('a kernel that refuses io_uring: inotify read by poll(2), not fs.watch', async () => {
    expect(await watcherAndCreate({ FORGE_TEST_IO_URING_DISABLED: '2' })).toBe('inotify-poll');
  });
  test('FORGE_IO_BACKEND=fallback: fs.watch', async () => {
    expect(await watcherAndCreate({ FORGE_IO_BACKEND: 'fallback' })).toBe('fs.watch');
  });
});
