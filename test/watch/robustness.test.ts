/**
 * What the inotify watcher cannot reach is retried or reported, never dropped silently:
 * - a directory unreadable at start is watched once it is made readable (chmod: its parent's
 *   IN_ATTRIB), and `stats()` counts it until then (run as an ordinary user: root reads anything);
 * - a name that is not valid UTF-8 and a path longer than PATH_MAX are counted in `stats()`;
 * - the fs.watch fallback does the same (unreadable directories through the shared UnreadableDirs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { WatchStats } from '../../host/node/base/platform-io.js';
import { watchTreeWith } from '../../host/node/io/watch.js';
import { createIoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import { ensureDist } from '../io/helpers.js';
import { tmpRoot } from './helpers.js';
import { hasCommand } from '../support/reference-tools.js';

const CHILD = path.resolve(__dirname, 'fixtures/unreadable-child.mjs');
const isRoot = process.getuid?.() === 0;
const canDropToNobody = isRoot && hasCommand('setpriv');
const roots: string[] = [];
afterEach(() => {
  // rm -rf copes with paths longer than PATH_MAX (it walks with openat).
  for (const r of roots.splice(0)) spawnSync('rm', ['-rf', r]);
});

describe.skipIf(process.platform !== 'linux')('inotify watcher robustness', () => {
  test.runIf(!isRoot || canDropToNobody)(
    'a directory unreadable at start is counted, then watched once chmod makes it readable',
    () => {
      const { ready, end } = unreadableRun({});
      expect(ready.kind).toMatch(/^inotify/);
      expectUnreadableRecovered(ready, end);
    },
    90_000,
  );

  test('a name that is not valid UTF-8 and a path longer than PATH_MAX are counted, not dropped silently', async () => {
    const root = unaddressableTree();
    const io = createIoUringBackend({ entries: 8, fileSlots: 1 });
    const h = watchTreeWith('inotify-io_uring', root, { debounceMs: 0 }, io);
    try {
      await h.ready;
      expectUnaddressableCounted(h.stats());
    } finally {
      await h.close();
      await io.close();
    }
  }, 60_000);
});

/** A tree with a file named by non-UTF-8 bytes and a chain of directories past PATH_MAX. */
function unaddressableTree(): string {
  const root = tmpRoot('names');
  roots.push(root);
  // A file named by the bytes 0xff 0xfe (not UTF-8), created through a shell.
  expect(spawnSync('sh', ['-c', `printf x > "$(printf '%s/bad-\\377\\376' "$1")"`, 'sh', root]).status).toBe(0);
  // A chain of directories deeper than PATH_MAX (each component 200 bytes), made relative to stay under it per call.
  let cwd = path.join(root, 'deep');
  fs.mkdirSync(cwd);
  for (let i = 0; i < 22; i++) {
    expect(spawnSync('mkdir', ['d'.repeat(200)], { cwd }).status).toBe(0);
    cwd = path.join(cwd, 'd'.repeat(200));
    if (cwd.length > 3000) break;
  }
  // Relative paths stay under PATH_MAX per call, while the absolute path goes past it.
  const rel = Array.from({ length: 8 }, () => 'e'.repeat(200)).join('/');
  expect(spawnSync('mkdir', ['-p', rel], { cwd }).status).toBe(0);
  expect(spawnSync('sh', ['-c', `printf y > ${rel}/last.txt`], { cwd }).status).toBe(0);
  return root;
}

/** What every watcher must say of {@link unaddressableTree}. */
function expectUnaddressableCounted(st: WatchStats): void {
  expect(st.namesNotUtf8).toBe(1);
  expect(st.pathsTooLong).toBeGreaterThanOrEqual(1);
  expect(st.partial).toBe(true);
  expect(st.degradedReason).toMatch(/not valid UTF-8/);
  expect(st.degradedReason).toMatch(/PATH_MAX/);
}

/** Runs the unreadable-directory child (as nobody when this is root) and returns its two JSON lines. */
function unreadableRun(env: NodeJS.ProcessEnv): { ready: Record<string, any>; end: Record<string, any> } {
  ensureDist();
  const root = tmpRoot('unreadable');
  roots.push(root);
  const opts = { encoding: 'utf8' as const, timeout: 60_000, env: { ...process.env, ...env } };
  let out: string;
  if (isRoot) {
    // Root reads every directory: the child runs as nobody, in a tree nobody owns.
    fs.chmodSync(path.dirname(CHILD), 0o755);
    execFileSync('chown', ['nobody', root]);
    out = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CHILD, root], opts);
  } else {
    out = execFileSync(process.execPath, [CHILD, root], opts);
  }
  const [ready, end] = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { ready, end };
}

/** Counted while unreadable; once chmod 755: the file inside and a file created later are reported, the count is 0. */
function expectUnreadableRecovered(ready: Record<string, any>, end: Record<string, any>): void {
  expect(ready.stats).toMatchObject({ unreadableDirectories: 1, partial: true });
  expect(ready.stats.degradedReason).toMatch(/not readable yet.*locked/);
  const paths = (end.changes as Array<{ path: string; kind: string }>).map((c) => `${c.kind}:${c.path}`);
  expect(paths).toContain('created:locked/inside.txt');
  expect(paths).toContain('created:locked/new.txt');
  expect(end.stats).toMatchObject({ unreadableDirectories: 0, partial: false });
}

describe.skipIf(process.platform !== 'linux')('fs.watch fallback watcher robustness', () => {
  test.runIf(!isRoot || canDropToNobody)(
    'a directory unreadable at start is counted, retried every second, and watched once readable',
    () => {
      const { ready, end } = unreadableRun({ FORGE_IO_BACKEND: 'fallback' });
      expect(ready.kind).toBe('fs.watch');
      expectUnreadableRecovered(ready, end);
    },
    90_000,
  );

  test('a name that is not valid UTF-8 and a path longer than PATH_MAX are counted, not dropped silently', async () => {
    const h = watchTreeWith('fs.watch', unaddressableTree(), { debounceMs: 0 });
    try {
      await h.ready;
      expectUnaddressableCounted(h.stats());
    } finally {
      await h.close();
    }
  }, 60_000);
});
