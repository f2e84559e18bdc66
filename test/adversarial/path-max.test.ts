/**
 * Paths longer than PATH_MAX (4096 bytes) cannot be named by any path call: `forge watch --once`
 * and the live watcher report them (naming the path prefix that could not be entered) and record
 * everything else. The tree is built by a shell that descends with relative `cd` (no single call
 * sees the whole path), and the expected file lists come from `find`, which walks with openat.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, Daemon, forge } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';
import { sql, tempDir } from './support.js';

const sqlite = requireTool('sqlite3', 'sqlite3', 'PATH_MAX report checks against the index with the sqlite3 CLI');
const PATH_MAX = 4096;
const SEG = 'd'.repeat(200);
const dirs: string[] = [];
afterEach(() => {
  // rm -rf copes with paths longer than PATH_MAX (it walks with openat); fs.rmSync does not.
  for (const d of dirs.splice(0)) spawnSync('rm', ['-rf', d]);
});

/** A tree with short files and a chain of 22 directories of 200 bytes, one file in each: the last ones are past PATH_MAX. */
function deepTree(): { base: string; root: string; short: string[]; long: string[] } {
  const base = tempDir('path-max');
  dirs.push(base);
  const root = path.join(base, 'tree');
  mkdirSync(path.join(root, 'deep'), { recursive: true });
  writeFileSync(path.join(root, 'top.txt'), 'top\n');
  const sh = spawnSync('bash', ['-c', `cd deep && for i in $(seq 1 22); do mkdir ${SEG} && cd ${SEG} && echo "file $i" > f$i.txt || exit 1; done`], {
    cwd: root,
  });
  expect(sh.status, sh.stderr.toString()).toBe(0);
  const found = spawnSync('find', ['.', '-type', 'f', '-not', '-path', './.forge/*'], { cwd: root, maxBuffer: 1 << 24 });
  expect(found.status).toBe(0);
  const all = found.stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, ''));
  // PATH_MAX counts the terminating NUL: a path call takes at most 4095 bytes.
  const long = all.filter((rel) => Buffer.byteLength(`${root}/${rel}`) >= PATH_MAX);
  const short = all.filter((rel) => !long.includes(rel));
  expect(long.length, 'the tree reaches past PATH_MAX').toBeGreaterThan(0);
  expect(short.length).toBeGreaterThan(10);
  return { base, root, short: short.sort(), long: long.sort() };
}

/** The `not recorded: <prefix>: ENAMETOOLONG` warnings on stderr (human lines). */
function reportedPrefixes(stderr: string): string[] {
  return [...stderr.matchAll(/^forge: warning: not recorded: (.+): ENAMETOOLONG$/gm)].map((m) => m[1]!);
}

describe.skipIf(!sqlite)('paths longer than PATH_MAX', () => {
  assertBuilt();

  it('forge watch --once records every path under PATH_MAX and names the prefix it could not enter', () => {
    const t = deepTree();
    const r = forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const prefixes = reportedPrefixes(r.stderr);
    expect(prefixes.length, r.stderr.slice(-3000)).toBeGreaterThan(0);
    // Every file past PATH_MAX lies under a reported prefix: none was dropped silently.
    for (const rel of t.long)
      expect(
        prefixes.some((p) => rel.startsWith(`${p}/`)),
        rel.slice(-80),
      ).toBe(true);
    // The structured log says the same (a scan problem on the `scan complete` line).
    const complete = r.stderr.split('\n').find((l) => l.includes('"message":"scan complete"'));
    expect(JSON.parse(complete!).problems.some((p: string) => p.endsWith('ENAMETOOLONG'))).toBe(true);
    const recorded = sql(path.join(t.root, '.forge', 'index.db'), 'SELECT DISTINCT path FROM files ORDER BY path').map((row) => row[0]!);
    expect(recorded.sort()).toEqual(t.short);
  }, 120_000);

  it('the live watcher reports them in its stats (pathsTooLong, degradedReason) and records everything else', async () => {
    const t = deepTree();
    const d = new Daemon(['--no-metrics', t.root], { cwd: t.base });
    await d.ready();
    const degraded = d.stderr
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('pathsTooLong'))
      .map((l) => JSON.parse(l) as { pathsTooLong: number; partial: boolean; degradedReason: string });
    expect(degraded.length, d.stderr.slice(-3000)).toBeGreaterThan(0);
    expect(degraded[0]!.pathsTooLong).toBeGreaterThan(0);
    expect(degraded[0]!.partial).toBe(true);
    const named = /paths longer than PATH_MAX, not watched: ([^;,]+)/.exec(degraded[0]!.degradedReason)![1]!;
    for (const rel of t.long) expect(rel === named || rel.startsWith(`${named}/`), rel.slice(-80)).toBe(true);
    expect(await d.stop()).toBe(0);
    const recorded = sql(path.join(t.root, '.forge', 'index.db'), 'SELECT DISTINCT path FROM files ORDER BY path').map((row) => row[0]!);
    expect(recorded.sort()).toEqual(t.short);
  }, 120_000);
});
