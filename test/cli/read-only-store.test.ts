/**
 * A store that cannot be written (here: a read-only bind mount, as root) can still be read: log, ls,
 * cat, diff, stats and verify work, and nothing is written to it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../support/reference-tools.js';
import { assertBuilt, forge } from './helpers.js';
import { seedHistory } from './seed.js';

const asRoot = process.platform === 'linux' && requireRoot('the read-only store checks (they bind-mount the store read-only)');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-ro-store-'));
const tree = path.join(base, 'tree');
const mnt = path.join(base, 'mnt');
let mounted = false;

beforeAll(async () => {
  if (!asRoot) return;
  assertBuilt();
  fs.mkdirSync(tree);
  fs.mkdirSync(mnt);
  await seedHistory(tree, [
    { path: 'a.txt', content: 'one\n', timeMs: Date.now() - 2000 },
    { path: 'a.txt', content: 'two\n', timeMs: Date.now() - 1000 },
  ]);
  fs.writeFileSync(path.join(tree, 'a.txt'), 'two\n');
  expect(spawnSync('mount', ['--bind', '-o', 'ro', tree, mnt]).status).toBe(0);
  mounted = true;
}, 60_000);
afterAll(() => {
  if (mounted) spawnSync('umount', [mnt]);
  fs.rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!asRoot)('a read-only store', () => {
  it('is read by log, ls, cat, diff, stats and verify, and stays unchanged', () => {
    const before = fs.readdirSync(path.join(tree, '.forge')).sort();
    expect(forge(['log', 'a.txt'], { cwd: mnt }).stdout).toMatch(/modified/);
    expect(forge(['ls'], { cwd: mnt }).stdout).toMatch(/a\.txt/);
    const seq = JSON.parse(forge(['log', 'a.txt', '--json'], { cwd: mnt }).stdout)[0].seq as number;
    const cat = forge(['cat', `a.txt@${seq}`], { cwd: mnt });
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('one\n');
    expect(forge(['diff', 'a.txt'], { cwd: mnt }).stdout).toMatch(/-one\n\+two/);
    expect(forge(['stats'], { cwd: mnt }).code).toBe(0);
    const v = forge(['verify'], { cwd: mnt });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/all intact/);
    expect(fs.readdirSync(path.join(tree, '.forge')).sort()).toEqual(before);
  });
});
