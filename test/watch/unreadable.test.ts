/**
 * The shared unreadable-directory bookkeeping every non-inotify watcher uses (UnreadableDirs,
 * createdBy): which directories a retry gets, that a still-unreadable one is retried again, that
 * closing stops the retries, what `stats()` and the reason say, and that a directory scanned once
 * readable yields exactly the paths `find` lists below it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { compileIgnore } from '../../host/node/watch/ignore.js';
import { scanTree, type Snapshot } from '../../host/node/watch/scan.js';
import { createdBy, UnreadableDirs } from '../../host/node/watch/unreadable.js';
import { rmrf, tmpRoot } from './helpers.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmrf(r);
});

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('UnreadableDirs', () => {
  test('one retry gets every noted directory; a directory noted again is retried again; close stops it', async () => {
    const calls: string[][] = [];
    let stillLocked = new Set(['a']);
    const u: UnreadableDirs = new UnreadableDirs((rels) => {
      calls.push([...rels].sort());
      for (const r of rels) {
        u.take(r);
        if (stillLocked.has(r)) u.note(r); // the scan found it unreadable again
      }
    }, 5);
    u.note('a');
    u.note('b');
    u.note('a');
    expect(u.stats()).toEqual({ unreadableDirectories: 2 });
    for (let i = 0; i < 400 && calls.length < 1; i++) await tick(5);
    expect(calls[0]).toEqual(['a', 'b']);
    expect(u.stats()).toEqual({ unreadableDirectories: 1 });
    for (let i = 0; i < 400 && calls.length < 2; i++) await tick(5);
    expect(calls[1]).toEqual(['a']);
    stillLocked = new Set();
    for (let i = 0; i < 400 && u.size > 0; i++) await tick(5);
    expect(u.size).toBe(0);
    expect(u.reason()).toBeUndefined();
    const n = calls.length;
    u.note('c');
    u.close();
    await tick(30);
    expect(calls.length).toBe(n); // closed: no retry, and note() after close is ignored
    u.note('d');
    expect(u.size).toBe(0);
  });

  test('the reason names at most five directories; forgetUnder drops a subtree', () => {
    const u = new UnreadableDirs(() => undefined, 1000);
    for (const r of ['x', 'x/y', 'x/y/z', 'p', 'q', 'r', 's']) u.note(r);
    expect(u.reason()).toBe('not readable yet (retried every 1000 ms): x, x/y, x/y/z, p, q, …');
    u.forgetUnder('x');
    expect(u.stats()).toEqual({ unreadableDirectories: 4 });
    expect(u.has('x/y')).toBe(false);
    expect(u.has('p')).toBe(true);
    u.close();
  });
});

describe('createdBy', () => {
  test('a directory scanned once readable reports exactly what find lists below it, and nothing already known', () => {
    const root = tmpRoot('created-by');
    roots.push(root);
    fs.mkdirSync(path.join(root, 'late', 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(root, 'known.txt'), 'k');
    for (const f of ['late/a', 'late/sub/b', 'late/sub/deeper/c']) fs.writeFileSync(path.join(root, f), f);
    const snapshot: Snapshot = new Map();
    const opts = { ignored: compileIgnore([]), followSymlinks: false, seenDirs: new Map<string, string>() };
    // The first scan saw `late` but not inside it (as if it had been unreadable).
    scanTree(root, '', snapshot, { ...opts, seenDirs: new Map() });
    for (const k of [...snapshot.keys()]) if (k.startsWith('late/')) snapshot.delete(k);
    const changes = createdBy(snapshot, 'late', () => scanTree(root, 'late', snapshot, { ...opts, seenDirs: new Map() }));
    const find = spawnSync('find', ['late', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    expect(changes.map((c) => c.path).sort()).toEqual(find);
    expect(changes.every((c) => c.kind === 'created')).toBe(true);
    // Scanned again: nothing new.
    expect(createdBy(snapshot, 'late', () => scanTree(root, 'late', snapshot, { ...opts, seenDirs: new Map() }))).toEqual([]);
  });
});
