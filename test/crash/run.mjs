#!/usr/bin/env node
// Crash-consistency loop: N rounds of SIGKILL at a random moment during a scan, the running daemon
// (under a writer), gc or restore. After each round, once a catch-up (`forge watch --once`) has run:
// `forge verify` exits 0, every object decodes to its name (lz4 -dc | sha256sum), and every file's
// newest recorded content equals the file (sha256sum of the file vs the index, read with sqlite3).
// Usage: node test/crash/run.mjs --rounds N [--seed S]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FORGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/forge.js');
const arg = (name, dflt) => {
  const i = process.argv.lastIndexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('--rounds', 10);
let seed = arg('--seed', Date.now() % 1e9);
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const sha = (file) => spawnSync('sha256sum', [file]).stdout.toString().split(' ')[0];
const forge = (args, cwd) => spawnSync(process.execPath, [FORGE, ...args], { cwd, timeout: 120_000, maxBuffer: 1 << 26 });

function objects(store) {
  const out = [];
  const base = path.join(store, 'objects');
  for (const fan of readdirSync(base)) {
    if (fan === 'tmp') continue;
    for (const f of readdirSync(path.join(base, fan))) out.push({ file: path.join(base, fan, f), hash: fan + f });
  }
  return out;
}

function write(root, n) {
  for (let i = 0; i < 40; i++) writeFileSync(path.join(root, `f${i}.txt`), `round content ${n} ${i} ${random()}\n`.repeat(1 + Math.floor(random() * 200)));
}

async function killAt(args, cwd, ms, during) {
  const child = spawn(process.execPath, [FORGE, ...args], { cwd, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const stopDuring = during?.();
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await exited;
  await stopDuring?.stop?.();
}

const base = mkdtempSync(path.join(os.tmpdir(), 'forge-crash-'));
const root = path.join(base, 'tree');
mkdirSync(root);
const store = path.join(root, '.forge');
const failures = [];
const phases = ['scan', 'watch', 'gc', 'restore'];
console.log(`crash loop: ${rounds} rounds, seed ${seed}, in ${base}`);
try {
  write(root, 0);
  for (let round = 1; round <= rounds; round++) {
    const phase = phases[Math.floor(random() * phases.length)];
    const ms = 20 + Math.floor(random() * 1200);
    write(root, round);
    if (phase === 'scan') await killAt(['watch', '--once', '--no-metrics', root], base, ms);
    else if (phase === 'watch') {
      await killAt(['watch', '--no-metrics', '--debounce-ms', '10', root], base, ms + 500, () => {
        let on = true;
        const loop = (async () => {
          for (let n = 0; on; n++) {
            writeFileSync(path.join(root, `w${n % 7}.txt`), `watch write ${round} ${n}\n`.repeat(1 + (n % 50)));
            await new Promise((r) => setTimeout(r, 3));
          }
        })();
        return { stop: async () => ((on = false), await loop) };
      });
    } else if (phase === 'gc') await killAt(['gc', '--keep', '1'], root, ms);
    else await killAt(['restore', `f${Math.floor(random() * 40)}.txt`, '--force'], root, ms);

    const problems = [];
    const once = forge(['watch', '--once', '--no-metrics', root], base);
    if (once.status !== 0) problems.push(`catch-up exited ${once.status}: ${once.stderr.toString().slice(-400)}`);
    const verify = forge(['verify'], root);
    if (verify.status !== 0) problems.push(`verify exited ${verify.status}: ${verify.stdout.toString().slice(-400)}${verify.stderr.toString().slice(-400)}`);
    let decoded = 0;
    for (const o of objects(store)) {
      const r = spawnSync('sh', ['-c', 'lz4 -dc "$1" | sha256sum', 'sh', o.file]);
      const got = r.stdout.toString().split(' ')[0];
      if (got !== o.hash) problems.push(`object ${o.hash} decodes to ${got}`);
      decoded++;
    }
    const rows = spawnSync('sqlite3', [
      '-readonly',
      '-separator',
      '\t',
      path.join(store, 'index.db'),
      'SELECT f.path, v.hash FROM files f JOIN versions v ON v.seq = f.latest_seq WHERE f.live = 1',
    ])
      .stdout.toString()
      .trim()
      .split('\n')
      .filter(Boolean);
    const newest = new Map(rows.map((l) => l.split('\t')));
    let files = 0;
    for (const name of readdirSync(root)) {
      if (name.startsWith('.')) continue;
      files++;
      const want = sha(path.join(root, name));
      if (newest.get(name) !== want) problems.push(`${name}: file ${want}, newest recorded ${newest.get(name)}`);
    }
    const ok = problems.length === 0;
    console.log(`round ${round}/${rounds}: SIGKILL during ${phase} at ${ms} ms: ${ok ? 'ok' : 'FAILED'} (${decoded} objects decoded, ${files} files checked)`);
    for (const p of problems) console.log(`  ${p}`);
    if (!ok) failures.push({ round, phase, problems });
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
console.log(`crash loop: ${rounds - failures.length}/${rounds} rounds passed`);
process.exit(failures.length === 0 ? 0 : 1);
