#!/usr/bin/env node
/**
 * bench/scale.mjs — how the initial scan's time and peak RSS grow with the file count, beside git.
 *
 *   npm run build:ts && npm run bench:scale
 *
 * For each count (default 10,000 and 100,000; 1,000,000 too with SCALE_1M=1 or `--1m`), a fresh
 * tree of tiny files with distinct content (about 250 bytes each, 100 per directory) is made, then:
 *   - `forge watch <tree> --once` (every object durable before it is recorded: syncfs per batch on ext4/xfs/btrfs, fsync per object elsewhere);
 *   - `git add -A` in a fresh repository, git defaults (loose objects not fsynced);
 *   - `git add -A` with core.fsync=loose-object,index + core.fsyncMethod=batch (equal durability).
 * Each prints wall time, time per file, peak RSS and RSS per file; then the growth from the
 * smallest to the largest count (extra µs and extra bytes of RSS per extra file).
 *
 * Env: SCALE_COUNTS (comma list, overrides the default counts), SCALE_1M=1, BENCH_SCALE_DIR (work
 * dir, default $TMPDIR/forge-bench-scale: the disk here, as bench:daemon; /dev/shm takes the disk
 * out), KEEP=1 to keep the trees. Peak RSS: see bench/lib/measure.mjs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtMs, loadLine, measure, mib, rssSource } from './lib/measure.mjs';
import { tinyTree } from './lib/tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..');
const forgeBin = path.join(repo, 'bin', 'forge.js');
const work = process.env.BENCH_SCALE_DIR ?? path.join(os.tmpdir(), 'forge-bench-scale');
const with1M = process.env.SCALE_1M === '1' || process.argv.includes('--1m');
const counts = process.env.SCALE_COUNTS ? process.env.SCALE_COUNTS.split(',').map((s) => Number(s.trim())) : [10_000, 100_000, ...(with1M ? [1_000_000] : [])];

if (!fs.existsSync(path.join(repo, 'dist', 'host', 'node', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build:ts` first');
  process.exit(1);
}
if (counts.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(`SCALE_COUNTS must be positive whole numbers, not ${process.env.SCALE_COUNTS}`);
  process.exit(2);
}

const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b' };

function reset(tree) {
  fs.rmSync(path.join(tree, '.forge'), { recursive: true, force: true });
  fs.rmSync(path.join(tree, '.git'), { recursive: true, force: true });
  spawnSync('sync');
}

async function git(tree, extra) {
  reset(tree);
  spawnSync('git', ['init', '-q', tree], { env: gitEnv });
  spawnSync('sync');
  const r = await measure('git', ['-C', tree, ...extra, 'add', '-A'], { env: gitEnv });
  if (r.status !== 0) throw new Error(`git add failed (${r.status}): ${r.stderr}`);
  return r;
}

async function forge(tree) {
  reset(tree);
  const r = await measure(process.execPath, [forgeBin, 'watch', tree, '--once', '--no-metrics', '--log-level', 'warn'], { env: process.env });
  if (r.status !== 0) throw new Error(`forge watch --once failed (${r.status}): ${r.stderr}`);
  const summary = r.stdout.split('\n').find((l) => l.includes('initial scan')) ?? '';
  const m = /initial scan: (\d+) files/.exec(summary);
  return { ...r, files: m ? Number(m[1]) : 0 };
}

const where = fs.realpathSync(os.tmpdir()) === fs.realpathSync(path.dirname(work)) ? `${work} (${os.tmpdir()})` : work;
console.log(`bench:scale — trees under ${where}; peak RSS from ${rssSource}`);
console.log(`start: ${loadLine()}`);
const rows = [];
for (const n of counts) {
  const tree = path.join(work, `tree-${n}`);
  const bytes = tinyTree(tree, n);
  const f = await forge(tree);
  if (f.files !== n) throw new Error(`forge recorded ${f.files} files, expected ${n}`);
  const g = await git(tree, []);
  const gf = await git(tree, ['-c', 'core.fsync=loose-object,index', '-c', 'core.fsyncMethod=batch']);
  rows.push({ n, bytes, f, g, gf });
  if (!process.env.KEEP) fs.rmSync(tree, { recursive: true, force: true });
  console.log(`${n} files done (${loadLine()})`);
}

const perFile = (ms, n) => `${((ms * 1000) / n).toFixed(0)} µs`;
console.log('');
console.log('| files     | tool                         | time     | per file | peak RSS | RSS/file | git / forge time |');
console.log('|-----------|------------------------------|----------|----------|----------|----------|------------------|');
for (const { n, f, g, gf } of rows) {
  const line = (name, r, ratio) =>
    console.log(
      `| ${String(n).padStart(9)} | ${name.padEnd(28)} | ${fmtMs(r.ms).padStart(8)} | ${perFile(r.ms, n).padStart(8)} | ${mib(r.rssKiB).padStart(8)} | ${`${((r.rssKiB * 1024) / n).toFixed(0)} B`.padStart(8)} | ${ratio.padStart(16)} |`,
    );
  line('forge watch --once', f, '');
  line('git add -A (defaults)', g, `${(g.ms / f.ms).toFixed(2)}x`);
  line('git add -A (batch fsync)', gf, `${(gf.ms / f.ms).toFixed(2)}x`);
}
if (rows.length > 1) {
  const a = rows[0];
  const b = rows[rows.length - 1];
  const dn = b.n - a.n;
  const slope = (x, y) => `${(((y.ms - x.ms) * 1000) / dn).toFixed(0)} µs and ${(((y.rssKiB - x.rssKiB) * 1024) / dn).toFixed(0)} B of RSS per extra file`;
  console.log('');
  console.log(`growth ${a.n} → ${b.n} files: forge ${slope(a.f, b.f)}; git ${slope(a.g, b.g)}; git (batch fsync) ${slope(a.gf, b.gf)}`);
  const rssOk = b.f.rssKiB <= 4 * b.g.rssKiB;
  console.log(
    `goal peak RSS <= 4x git's at ${b.n} files: ${mib(b.f.rssKiB)} vs ${mib(b.g.rssKiB)} (${(b.f.rssKiB / b.g.rssKiB).toFixed(1)}x): ${rssOk ? 'met' : 'not met'}`,
  );
}
console.log(`end: ${loadLine()}`);
if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
