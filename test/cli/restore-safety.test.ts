/**
 * Restore never writes into the store, never replaces what is not a regular file, and reads time
 * strictly: each case reproduces a way the store or a special file could be overwritten.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, forge } from './helpers.js';
import { seedHistory } from './seed.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-restore-safety-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-restore-outside-'));
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});
const store = path.join(root, '.forge');
const snapshot = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const f of ['store.json', 'index.db']) {
    const p = path.join(store, f);
    if (fs.existsSync(p)) out[f] = fs.readFileSync(p).toString('base64');
  }
  return out;
};

let seededAt = 0;
beforeAll(async () => {
  assertBuilt();
  const now = (seededAt = Date.now());
  await seedHistory(root, [
    { path: 'store.json', content: '{"evil":true}\n', timeMs: now - 5000 },
    { path: 'index.db', content: 'not a database\n', timeMs: now - 4000 },
    { path: 'notes.txt', content: 'notes v1\n', timeMs: now - 3000 },
    { path: 'src/a.txt', content: 'a at t1\n', timeMs: now - 3000 },
    { path: 'src/b.txt', content: 'b at t1\n', timeMs: now - 3000 },
    { path: 'src/a.txt', content: 'a at t2\n', timeMs: now - 1000 },
  ]);
  fs.mkdirSync(path.join(root, 'src'));
  fs.writeFileSync(path.join(root, 'src/a.txt'), 'a at t2\n');
  fs.symlinkSync('.forge', path.join(root, 'd2')); // a link into the store
}, 120_000);

describe('restore safety', () => {
  it('refuses a destination inside the store reached through a symlink (d2 -> .forge), even with --force', () => {
    const before = snapshot();
    const r = forge(['restore', 'd2/store.json', '--force'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/inside the store directory|outside|refusing/);
    expect(snapshot()).toEqual(before);
  });

  it('refuses --to into the store at any depth (--to .forge/index.db --force)', () => {
    const before = snapshot();
    for (const to of ['.forge/index.db', 'd2/index.db', path.join(store, 'objects', 'x')]) {
      const r = forge(['restore', 'index.db', '--to', to, '--force'], { cwd: root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/inside the store directory/);
    }
    expect(snapshot()).toEqual(before);
    expect(fs.existsSync(path.join(store, 'objects', 'x'))).toBe(false);
  });

  it('never replaces a FIFO, socket or symlink destination, with or without --force', () => {
    const fifo = path.join(outside, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const link = path.join(outside, 'link');
    fs.writeFileSync(path.join(outside, 'target'), 'keep me\n');
    fs.symlinkSync(path.join(outside, 'target'), link);
    for (const dest of [fifo, link]) {
      for (const force of [[], ['--force']]) {
        const r = forge(['restore', 'notes.txt', '--to', dest, ...force], { cwd: root });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/not a regular file/);
      }
    }
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(outside, 'target'), 'utf8')).toBe('keep me\n');
  });

  it('--at is parsed strictly: 0 and 2024 are errors, not the year 2000', () => {
    for (const at of ['0', '2024', 'yesterday', '12:00']) {
      const r = forge(['restore', 'notes.txt', '--at', at, '--to', path.join(outside, 'x.txt')], { cwd: root });
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(/--at must be/);
    }
    const ok = forge(['restore', 'notes.txt', '--at', new Date().toISOString(), '--to', path.join(outside, 'now.txt')], { cwd: root });
    expect(ok.code).toBe(0);
    expect(fs.readFileSync(path.join(outside, 'now.txt'), 'utf8')).toBe('notes v1\n');
  });

  it('a directory without --at gets a usage error that says how to restore a directory', () => {
    const r = forge(['restore', 'src'], { cwd: root });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/is a directory: give --at/);
  });

  it('restore <dir> --at restores the directory as it was, and --to puts it elsewhere', () => {
    const between = new Date(seededAt - 2000).toISOString();
    const dest = path.join(outside, 'src-then');
    const r = forge(['restore', 'src', '--at', between, '--to', dest], { cwd: root });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('a at t1\n');
    expect(fs.readFileSync(path.join(dest, 'b.txt'), 'utf8')).toBe('b at t1\n');
    // In the tree: a.txt holds the newest recorded content, so it may be replaced; b.txt is missing and comes back.
    const inTree = forge(['restore', 'src', '--at', between], { cwd: root });
    expect(inTree.code).toBe(0);
    expect(fs.readFileSync(path.join(root, 'src/a.txt'), 'utf8')).toBe('a at t1\n');
    expect(fs.readFileSync(path.join(root, 'src/b.txt'), 'utf8')).toBe('b at t1\n');
    // Unrecorded changes stop the whole directory restore before anything is written.
    fs.writeFileSync(path.join(root, 'src/b.txt'), 'edited, never recorded\n');
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'a at t2\n');
    const refused = forge(['restore', 'src', '--at', between], { cwd: root });
    expect(refused.code).not.toBe(0);
    expect(fs.readFileSync(path.join(root, 'src/b.txt'), 'utf8')).toBe('edited, never recorded\n');
    expect(fs.readFileSync(path.join(root, 'src/a.txt'), 'utf8')).toBe('a at t2\n');
  });

  it('diff ... current does not follow a symlink out of the tree', () => {
    fs.writeFileSync(path.join(outside, 'secret'), 'outside secret\n');
    fs.rmSync(path.join(root, 'notes.txt'), { force: true });
    fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'notes.txt'));
    const r = forge(['diff', 'notes.txt', '3', 'current'], { cwd: root });
    expect(r.stdout).not.toMatch(/outside secret/);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a regular file/);
  });
});
