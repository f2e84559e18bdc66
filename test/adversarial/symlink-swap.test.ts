/**
 * A writer of the tree swaps files for symlinks to a file outside it while Forge records: the
 * outside file's content must never reach the store (the walk's lstat and the read are separate
 * moments; the read is O_NOFOLLOW and checked by fstat against what the walk saw).
 */
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, Daemon, forge, sleep } from '../cli/helpers.js';
import { requireRoot, requireTool } from '../support/reference-tools.js';
import { anyObjectContains, cleanup, Hostile, sha256sum, sql, SYMLINK_SWAPPER, tempDir } from './support.js';

const lz4 = requireTool('lz4', 'lz4', 'adversarial store checks that decode every object with the lz4 CLI');
const sqlite = requireTool('sqlite3', 'sqlite3', 'adversarial index checks with the sqlite3 CLI');
const dirs: string[] = [];
const hostiles: Hostile[] = [];
afterEach(async () => {
  for (const h of hostiles.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

function tree(files: number): { base: string; root: string; secret: string; secretText: string; names: string[] } {
  const base = tempDir('symlink');
  dirs.push(base);
  const root = path.join(base, 'tree');
  mkdirSync(root);
  const names = Array.from({ length: files }, (_, i) => `f${i}.txt`);
  for (const n of names) writeFileSync(path.join(root, n), `ordinary ${n}`);
  const secretText = `TOP-SECRET-${randomBytes(16).toString('hex')}`;
  const secret = path.join(base, 'secret');
  writeFileSync(secret, secretText);
  return { base, root, secret, secretText, names };
}

describe.skipIf(!lz4 || !sqlite)('symlink swaps during recording', () => {
  assertBuilt();

  it('forge watch --once under a swapper never stores the outside file (3 rounds, every object decoded with lz4 -dc)', async () => {
    const t = tree(400);
    const swapper = new Hostile(SYMLINK_SWAPPER, [t.root, t.secret, t.names.join(',')]);
    hostiles.push(swapper);
    await swapper.started;
    for (let round = 0; round < 3; round++) {
      const r = forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
    }
    await swapper.stop();
    const store = path.join(t.root, '.forge');
    const scan = anyObjectContains(store, t.secretText);
    expect(scan.objects).toBeGreaterThan(0);
    expect(scan.hits).toEqual([]);
    const secretHash = sha256sum(t.secret);
    expect(sql(path.join(store, 'index.db'), `SELECT count(*) FROM versions WHERE hash = '${secretHash}'`)).toEqual([['0']]);
  }, 240_000);

  it('a running daemon under a swapper never stores the outside file', async () => {
    const t = tree(300);
    const d = new Daemon([t.root, '--no-metrics', '--debounce-ms', '20'], { cwd: t.base });
    await d.ready();
    const swapper = new Hostile(SYMLINK_SWAPPER, [t.root, t.secret, t.names.join(',')]);
    hostiles.push(swapper);
    await swapper.started;
    await sleep(4000);
    await swapper.stop();
    await sleep(500);
    expect(await d.stop()).toBe(0);
    const store = path.join(t.root, '.forge');
    expect(anyObjectContains(store, t.secretText).hits).toEqual([]);
    // It did record while the swaps went on (the test would be empty otherwise).
    const versions = Number(sql(path.join(store, 'index.db'), 'SELECT count(*) FROM versions')[0]![0]);
    expect(versions).toBeGreaterThan(300);
  }, 120_000);

  it('a recorded file replaced by a symlink or a FIFO is recorded as removed (catch-up and live)', async () => {
    const t = tree(4);
    expect(forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base }).code).toBe(0);
    rmSync(path.join(t.root, 'f0.txt'));
    symlinkSync(t.secret, path.join(t.root, 'f0.txt'));
    rmSync(path.join(t.root, 'f1.txt'));
    expect(spawnSync('mkfifo', [path.join(t.root, 'f1.txt')]).status).toBe(0);
    expect(forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base, timeoutMs: 60_000 }).code).toBe(0);
    const index = path.join(t.root, '.forge', 'index.db');
    const kinds = (p: string): string[] =>
      sql(index, `SELECT v.kind FROM versions v JOIN files f ON f.id = v.file_id WHERE f.path = '${p}' ORDER BY v.seq`).map((r) => r[0]!);
    expect(kinds('f0.txt')).toEqual(['created', 'removed']);
    expect(kinds('f1.txt')).toEqual(['created', 'removed']);

    const d = new Daemon([t.root, '--no-metrics', '--debounce-ms', '20'], { cwd: t.base });
    await d.ready();
    rmSync(path.join(t.root, 'f2.txt'));
    symlinkSync(t.secret, path.join(t.root, 'f2.txt'));
    rmSync(path.join(t.root, 'f3.txt'));
    expect(spawnSync('mkfifo', [path.join(t.root, 'f3.txt')]).status).toBe(0);
    for (let i = 0; i < 200 && (kinds('f2.txt').length < 2 || kinds('f3.txt').length < 2); i++) await sleep(50);
    expect(await d.stop()).toBe(0);
    expect(kinds('f2.txt')).toEqual(['created', 'removed']);
    expect(kinds('f3.txt')).toEqual(['created', 'removed']);
  }, 120_000);

  const root = requireRoot('a root daemon on a tree owned by nobody, with nobody swapping in links to a root-only file');
  it.skipIf(!root)(
    'as root: nobody swapping links to a root-only 0600 file into its tree gets nothing of it stored',
    async () => {
      const base = mkdtempSync('/tmp/forge-adv-root-');
      dirs.push(base);
      chmodSync(base, 0o755);
      const t = path.join(base, 'tree');
      mkdirSync(t);
      const names = Array.from({ length: 300 }, (_, i) => `n${i}.txt`);
      for (const n of names) writeFileSync(path.join(t, n), `ordinary ${n}`);
      const nobody = Number(spawnSync('id', ['-u', 'nobody']).stdout.toString().trim());
      const nogroup = Number(spawnSync('getent', ['group', 'nogroup']).stdout.toString().split(':')[2]);
      spawnSync('chown', ['-R', `${nobody}:${nogroup}`, t]);
      const secretText = `ROOT-ONLY-${randomBytes(16).toString('hex')}`;
      const secret = path.join(base, 'root-only');
      writeFileSync(secret, secretText, { mode: 0o600 });
      chownSync(secret, 0, 0);
      const store = path.join(base, 'store');
      const d = new Daemon([t, '--store', store, '--no-metrics', '--debounce-ms', '20'], { cwd: base });
      await d.ready();
      const swapper = new Hostile(SYMLINK_SWAPPER, [t, secret, names.join(',')], { uid: 'nobody' });
      hostiles.push(swapper);
      await swapper.started;
      await sleep(4000);
      await swapper.stop();
      await sleep(500);
      expect(await d.stop()).toBe(0);
      expect(anyObjectContains(store, secretText).hits).toEqual([]);
      expect(sql(path.join(store, 'index.db'), `SELECT count(*) FROM versions WHERE hash = '${sha256sum(secret)}'`)).toEqual([['0']]);
    },
    120_000,
  );
});
