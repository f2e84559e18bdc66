/**
 * A full disk under the store: `--once` says "disk full" and exits non-zero; the running daemon
 * waits (logging it) and records again once space is free, instead of living on without recording.
 * Root only: the test mounts its own small tmpfs.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, Daemon, forge, sleep } from '../cli/helpers.js';
import { requireRoot, requireTool } from '../support/reference-tools.js';
import { cleanup, sql, tempDir } from './support.js';

const root = requireRoot('disk-full recording on a small tmpfs (mount)');
const sqlite = requireTool('sqlite3', 'sqlite3', 'adversarial index checks with the sqlite3 CLI');
const dirs: string[] = [];
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
  for (const d of dirs.splice(0)) cleanup(d);
});

/** Fills the filesystem of `dir` with a filler file until ENOSPC. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
  return filler;
}

describe.skipIf(!root || !sqlite)('disk full under the store', () => {
  assertBuilt();

  it('--once says disk full and exits non-zero; the daemon waits and records once space is free', async () => {
    const base = tempDir('diskfull');
    dirs.push(base);
    const tree = path.join(base, 'tree');
    const mnt = path.join(base, 'mnt');
    mkdirSync(tree);
    mkdirSync(mnt);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status).toBe(0);
    mounts.push(mnt);
    const store = path.join(mnt, 'store');
    writeFileSync(path.join(tree, 'a.txt'), 'a');
    expect(forge(['watch', '--once', '--no-metrics', '--store', store, tree], { cwd: base }).code).toBe(0);
    const index = path.join(store, 'index.db');

    const filler = fill(mnt);
    writeFileSync(path.join(tree, 'big1.bin'), randomBytes(512 * 1024));
    const once = forge(['watch', '--once', '--no-metrics', '--store', store, tree], { cwd: base, timeoutMs: 60_000 });
    expect(once.code).not.toBe(0);
    expect(once.stderr).toContain('disk full');
    expect(once.stderr).toContain('category: storage');

    rmSync(filler);
    const d = new Daemon([tree, '--no-metrics', '--store', store, '--debounce-ms', '20'], { cwd: base });
    await d.ready();
    const filler2 = fill(mnt);
    writeFileSync(path.join(tree, 'big2.bin'), randomBytes(512 * 1024));
    for (let i = 0; i < 400 && !d.stderr.includes('disk full'); i++) await sleep(50);
    expect(d.stderr).toContain('disk full');
    expect(d.child.exitCode).toBe(null); // waiting, not dead, and not pretending
    rmSync(filler2);
    const has = (p: string): boolean => sql(index, `SELECT count(*) FROM files WHERE path = '${p}' AND live = 1`)[0]![0] === '1';
    for (let i = 0; i < 800 && !has('big2.bin'); i++) await sleep(50);
    expect(has('big2.bin')).toBe(true);
    // Recording goes on afterwards.
    writeFileSync(path.join(tree, 'after.txt'), 'after');
    for (let i = 0; i < 400 && !has('after.txt'); i++) await sleep(50);
    expect(has('after.txt')).toBe(true);
    expect(await d.stop()).toBe(0);
  }, 180_000);
});
