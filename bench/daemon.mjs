#!/usr/bin/env node
/**
 * bench/daemon.mjs — the `forge watch` daemon, end to end, in one run.
 *
 *   npm run build:ts && npm run bench:daemon
 *
 * 1. Initial scan of a real tree of >= 20,000 files: a copy of this project's
 *    node_modules (without node_modules/.cache, a tool cache), plus, to pass
 *    20,000 files, a second copy of its files under 64 KiB with one byte
 *    appended (so nothing deduplicates against the first copy). Every
 *    .gitignore is removed from the copy so git and Forge record the same files.
 *    - `forge watch <tree> --once` (FORGE_IGNORE='!node_modules' so nested
 *      node_modules are recorded too), wall time of the whole process;
 *    - `git add -A` into a fresh repository, git defaults (loose objects are
 *      not fsynced), and again with `core.fsync=loose-object,index` +
 *      `core.fsyncMethod=batch` (the same durability as Forge, which makes
 *      every object durable before recording it: syncfs per batch on
 *      ext4/xfs/btrfs, fsync per object elsewhere).
 *    Ratio = git time / Forge time (> 1: Forge faster).
 *    Peak RSS of each (bench/lib/measure.mjs: GNU time's ru_maxrss, else VmHWM polling).
 * 1b. Initial scan of 100,000 tiny files (about 250 bytes each, distinct; TINY_FILES to change the
 *    count, 0 to skip), the same three runs.
 *    Goals, each printed with met / not met from this one run: forge >= 1.0x git defaults,
 *    >= 2.0x git with equal fsync, and (tiny files) peak RSS <= 4x git's.
 * 2. Latency from a file write to its version being recorded: `forge watch`
 *    running (default debounce 100 ms); N writes one at a time; the bench polls
 *    the index (read-only SQLite) every millisecond for the new content's hash.
 *    Reports p50/p99/max; goal p99 <= debounce + 50 ms.
 *
 * The load average is printed at the start and the end: the machine may be shared, and only the
 * ratios measured in one run compare.
 *
 * Env: BENCH_DAEMON_DIR (work dir, default $TMPDIR/forge-bench-daemon, on the disk here),
 * LATENCY_WRITES (default 200), ONLY_LATENCY=1 (skip the scan part), KEEP=1 to keep the work dir.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { prepareTree, tinyTree } from './lib/tree.mjs';
import { loadLine, measure, mib, rssSource } from './lib/measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..');
const forgeBin = path.join(repo, 'bin', 'forge.js');
const work = process.env.BENCH_DAEMON_DIR ?? path.join(os.tmpdir(), 'forge-bench-daemon');
const WRITES = Number(process.env.LATENCY_WRITES ?? 200);
const DEBOUNCE = 100;

if (!fs.existsSync(path.join(repo, 'dist', 'host', 'node', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build:ts` first');
  process.exit(1);
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);

function dropStore(tree) {
  fs.rmSync(path.join(tree, '.forge'), { recursive: true, force: true });
  fs.rmSync(path.join(tree, '.git'), { recursive: true, force: true });
}

async function gitAdd(tree, extra) {
  dropStore(tree);
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b' };
  spawnSync('git', ['init', '-q', tree], { env });
  spawnSync('sync');
  const r = await measure('git', ['-C', tree, ...extra, 'add', '-A'], { env });
  if (r.status !== 0) throw new Error(`git add failed: ${r.stderr}`);
  const n = spawnSync('git', ['-C', tree, 'ls-files'], { env, maxBuffer: 1 << 28 })
    .stdout.toString()
    .split('\n')
    .filter(Boolean).length;
  return { ms: r.ms, rssKiB: r.rssKiB, files: n };
}

async function forgeScan(tree) {
  dropStore(tree);
  spawnSync('sync');
  const r = await measure(process.execPath, [forgeBin, 'watch', tree, '--once', '--no-metrics', '--log-level', 'warn'], {
    env: { ...process.env, FORGE_IGNORE: '!node_modules' },
  });
  if (r.status !== 0) throw new Error(`forge watch --once failed (${r.status}): ${r.stderr}`);
  const summary =
    r.stdout
      .trim()
      .split('\n')
      .find((l) => l.includes('initial scan')) ?? '';
  return { ms: r.ms, rssKiB: r.rssKiB, summary };
}

const verdict = (ok) => (ok ? 'met' : 'not met');

/** The three runs on `tree`, printed as a table with the goals. */
async function scanTable(title, tree, rssGoal) {
  const gitDefault = await gitAdd(tree, []);
  const gitFsync = await gitAdd(tree, ['-c', 'core.fsync=loose-object,index', '-c', 'core.fsyncMethod=batch']);
  const forge = await forgeScan(tree);
  console.log(forge.summary);
  console.log('');
  console.log(`| ${title.padEnd(56)} | time     | peak RSS | git / forge time |`);
  console.log('|----------------------------------------------------------|----------|----------|------------------|');
  console.log(
    `| forge watch --once (objects durable, LZ4, SQLite index)   | ${fmt(forge.ms).padStart(8)} | ${mib(forge.rssKiB).padStart(8)} |                  |`,
  );
  console.log(
    `| git add -A, git defaults (loose objects not fsynced)      | ${fmt(gitDefault.ms).padStart(8)} | ${mib(gitDefault.rssKiB).padStart(8)} | ${(gitDefault.ms / forge.ms).toFixed(2).padStart(15)}x |`,
  );
  console.log(
    `| git add -A, core.fsync=loose-object + fsyncMethod=batch   | ${fmt(gitFsync.ms).padStart(8)} | ${mib(gitFsync.rssKiB).padStart(8)} | ${(gitFsync.ms / forge.ms).toFixed(2).padStart(15)}x |`,
  );
  console.log(`(git recorded ${gitDefault.files} files)`);
  const d = gitDefault.ms / forge.ms;
  const f = gitFsync.ms / forge.ms;
  console.log(`goal: >= 1.0x git defaults: ${d.toFixed(2)}x, ${verdict(d >= 1)}; >= 2.0x git at equal fsync: ${f.toFixed(2)}x, ${verdict(f >= 2)}`);
  if (rssGoal) {
    const r = forge.rssKiB / gitDefault.rssKiB;
    console.log(
      `goal: peak RSS <= 4x git's: ${mib(forge.rssKiB)} vs ${mib(gitDefault.rssKiB)} (${r.toFixed(1)}x), ${verdict(r <= 4)} (growth with the file count: npm run bench:scale)`,
    );
  }
  dropStore(tree);
}

async function latency(tree) {
  // A small separate tree keeps the scan out of the way; the store is the daemon's default.
  const lt = path.join(work, 'latency');
  fs.mkdirSync(lt, { recursive: true });
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(lt, `seed${i}.txt`), `seed ${i}\n`);
  const child = spawn(process.execPath, [forgeBin, 'watch', lt, '--no-metrics', '--debounce-ms', String(DEBOUNCE), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const t0 = Date.now();
  while (!out.includes('forge: ready')) {
    if (child.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`daemon not ready: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const db = new Database(path.join(lt, '.forge', 'index.db'), { readonly: true, fileMustExist: true });
  const q = db.prepare('SELECT v.hash FROM versions v JOIN files f ON f.id = v.file_id WHERE f.path = ? ORDER BY v.seq DESC LIMIT 1');
  const samples = [];
  try {
    for (let i = 0; i < WRITES; i++) {
      const rel = `w${i % 20}.txt`;
      const data = `write ${i} ${Math.random()}\n`;
      const hash = createHash('sha256').update(data).digest('hex');
      const start = process.hrtime.bigint();
      fs.writeFileSync(path.join(lt, rel), data);
      for (;;) {
        const row = q.get(rel);
        if (row?.hash === hash) break;
        if (ms(start) > 10_000) throw new Error(`write ${i} not recorded after 10 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      samples.push(ms(start));
    }
  } finally {
    db.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
  return { p50: pct(50), p99: pct(99), max: samples[samples.length - 1], n: samples.length, exit: child.exitCode };
}

const onlyLatency = process.env.ONLY_LATENCY === '1';
const TINY = Number(process.env.TINY_FILES ?? 100_000);
console.log(`bench:daemon — work dir ${work}; peak RSS from ${rssSource}`);
console.log(`start: ${loadLine()}`);
const { tree, files, bytes } = onlyLatency ? { tree: path.join(work, 'tree'), files: 0, bytes: 0 } : prepareTree(work, repo);
if (!onlyLatency) {
  console.log(
    `tree: ${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB (copy of node_modules without .cache${files > 14_000 ? ' + small files again, +1 byte' : ''})`,
  );
  await scanTable(`initial scan, ${files} files`, tree, false);
  if (TINY > 0) {
    const tiny = path.join(work, 'tiny');
    const tb = tinyTree(tiny, TINY);
    console.log('');
    console.log(`tiny tree: ${TINY} files, ${(tb / 2 ** 20).toFixed(1)} MiB`);
    await scanTable(`initial scan, ${TINY} tiny files`, tiny, true);
    fs.rmSync(tiny, { recursive: true, force: true });
  }
  console.log(`after the scans: ${loadLine()}`);
}

const lat = await latency(tree);
console.log('');
console.log(
  `write -> version recorded, ${lat.n} writes, debounce ${DEBOUNCE} ms: p50 ${fmt(lat.p50)}, p99 ${fmt(lat.p99)}, max ${fmt(lat.max)} ` +
    `(goal p99 <= ${DEBOUNCE + 50} ms: ${lat.p99 <= DEBOUNCE + 50 ? 'met' : 'missed'}); daemon exit code on SIGTERM: ${lat.exit}`,
);
if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
