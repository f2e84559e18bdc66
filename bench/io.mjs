#!/usr/bin/env node
/**
 * bench/io.mjs — Forge batch I/O against node:fs, in one run, warm page cache.
 *
 *   npm run build:ts && npm run bench:io          (ROUNDS=15 by default; env ROUNDS=N)
 *
 * Scenarios: batchRead 1,000 × 4 KiB and 100 × 1 MiB; batchWrite 1,000 × 4 KiB
 * without and with sync. Peers: a readFileSync/writeFileSync loop,
 * Promise.all(fs.promises.readFile/writeFile), and the same Promise.all in a
 * child process with UV_USE_IO_URING=1 (libuv's own io_uring). Each number is
 * the median of ROUNDS interleaved rounds (the order rotates every round).
 * Also reported: the largest event-loop timer gap while the 1,000-file batch runs.
 * Ratios are peer time / Forge time: > 1 means Forge is faster.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist', 'host', 'node', 'io', 'select.js');
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const WARM = 2;
const KiB = 1024;
const MiB = 1024 * KiB;

const root = process.env.BENCH_IO_DIR ?? path.join(os.tmpdir(), 'forge-bench-io');
const small = Array.from({ length: 1000 }, (_, i) => path.join(root, 'small', `f${i}.bin`));
const large = Array.from({ length: 100 }, (_, i) => path.join(root, 'large', `f${i}.bin`));
const outs = Array.from({ length: 1000 }, (_, i) => path.join(root, 'out', `w${i}.bin`));

function prepare() {
  for (const d of ['small', 'large', 'out']) fs.mkdirSync(path.join(root, d), { recursive: true });
  const make = (p, n, seed) => {
    if (fs.existsSync(p) && fs.statSync(p).size === n) return;
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
    fs.writeFileSync(p, b);
  };
  small.forEach((p, i) => make(p, 4 * KiB, i));
  large.forEach((p, i) => make(p, MiB, i));
  // warm the page cache
  for (const p of [...small, ...large]) fs.readFileSync(p);
}

const wdata = Array.from({ length: 1000 }, (_, i) => Buffer.alloc(4 * KiB, i & 0xff));

// ---------------------------------------------------------------- peers

const readPeers = {
  readFileSync: async (ps) => ps.map((p) => fs.readFileSync(p)),
  'Promise.all(readFile)': (ps) => Promise.all(ps.map((p) => fs.promises.readFile(p))),
};
const writePeers = {
  writeFileSync: async (ps) => ps.forEach((p, i) => fs.writeFileSync(p, wdata[i])),
  'Promise.all(writeFile)': (ps) => Promise.all(ps.map((p, i) => fs.promises.writeFile(p, wdata[i]))).then(() => undefined),
};
const syncWritePeers = {
  'writeSync+fsyncSync loop': async (ps) =>
    ps.forEach((p, i) => {
      const fd = fs.openSync(p, 'w');
      fs.writeSync(fd, wdata[i]);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }),
  'Promise.all(write+sync)': (ps) =>
    Promise.all(
      ps.map(async (p, i) => {
        const fh = await fs.promises.open(p, 'w');
        try {
          await fh.writeFile(wdata[i]);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }),
    ).then(() => undefined),
};

// ---------------------------------------------------------------- timing

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

/** Runs every fn on `set` ROUNDS times, rotating the order each round; returns median ms per fn. */
async function measure(fns, set, check) {
  const names = Object.keys(fns);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < WARM + ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const t0 = process.hrtime.bigint();
      const res = await fns[name](set);
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      if (round === 0 && check) check(name, res);
      if (round >= WARM) times[name].push(dt);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

/** Largest gap between 1 ms timer ticks while `fn` runs (how long the event loop was held). */
async function largestTimerGap(fn) {
  let last = performance.now();
  let gap = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  await new Promise((r) => setTimeout(r, 5));
  const gaps = [];
  for (let i = 0; i < 5; i++) {
    gap = 0;
    last = performance.now();
    await fn();
    const now = performance.now();
    gaps.push(Math.max(gap, now - last)); // a run that never yielded counts whole
    await new Promise((r) => setTimeout(r, 5));
  }
  running = false;
  return median(gaps);
}

function checkRead(set) {
  return (name, res) => {
    const bad = set.findIndex((p, i) => {
      const got = Array.isArray(res) && res[i] ? (res[i].ok === undefined ? res[i] : res[i].ok ? res[i].data : null) : null;
      return !got || Buffer.compare(Buffer.from(got), fs.readFileSync(p)) !== 0;
    });
    if (bad >= 0) throw new Error(`${name}: wrong bytes for ${set[bad]}`);
  };
}
function checkWrite(set) {
  return (name, res) => {
    if (Array.isArray(res) && res.some((r) => r && r.ok === false)) throw new Error(`${name}: a write failed: ${res.find((r) => !r.ok).error.message}`);
    set.forEach((p, i) => {
      if (Buffer.compare(fs.readFileSync(p), wdata[i]) !== 0) throw new Error(`${name}: wrong bytes in ${p}`);
    });
  };
}

// ---------------------------------------------------------------- child: UV_USE_IO_URING=1 peers

if (process.argv[2] === '--uv-child') {
  const out = {
    read4k: await measure({ 'Promise.all(readFile)': readPeers['Promise.all(readFile)'] }, small, checkRead(small)),
    read1m: await measure({ 'Promise.all(readFile)': readPeers['Promise.all(readFile)'] }, large, checkRead(large)),
    write4k: await measure({ 'Promise.all(writeFile)': writePeers['Promise.all(writeFile)'] }, outs, checkWrite(outs)),
    write4kSync: await measure({ 'Promise.all(write+sync)': syncWritePeers['Promise.all(write+sync)'] }, outs.slice(0, 1000), checkWrite(outs)),
    gap: await largestTimerGap(() => Promise.all(small.map((p) => fs.promises.readFile(p)))),
  };
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

// ---------------------------------------------------------------- main

if (!fs.existsSync(dist)) {
  console.error('bench/io: dist/ is missing; run `npm run build:ts` first.');
  process.exit(1);
}
const { createPlatformIO } = await import(dist);
prepare();
const io = await createPlatformIO();
const fb = await createPlatformIO({ backend: 'fallback' });
if (io.backend !== 'io_uring') console.warn(`note: io_uring is not available here (${JSON.stringify(io.selection.rejected)}); Forge runs on ${io.backend}`);

const forgeRead = { [`Forge ${io.backend}`]: (ps) => io.batchRead(ps), 'Forge fallback': (ps) => fb.batchRead(ps) };
const forgeWrite = { [`Forge ${io.backend}`]: (ps) => io.batchWrite(ps.map((p, i) => ({ path: p, data: wdata[i] }))) };
const forgeWriteSync = { [`Forge ${io.backend}`]: (ps) => io.batchWrite(ps.map((p, i) => ({ path: p, data: wdata[i], sync: true }))) };

console.log(`bench/io — ${os.cpus().length} cores, ${os.arch()}, Linux ${os.release()}, Node ${process.versions.node}; median of ${ROUNDS} rounds (ms); warm cache; data in ${root}`);
const one = small.slice(0, 1);
const results = {
  read1x4k: await measure({ ...forgeRead, ...readPeers }, one, checkRead(one)),
  read10x4k: await measure({ ...forgeRead, ...readPeers }, small.slice(0, 10), checkRead(small.slice(0, 10))),
  read4k: await measure({ ...forgeRead, ...readPeers }, small, checkRead(small)),
  read1m: await measure({ ...forgeRead, ...readPeers }, large, checkRead(large)),
  write4k: await measure({ ...forgeWrite, ...writePeers }, outs, checkWrite(outs)),
  write4kSync: await measure({ ...forgeWriteSync, ...syncWritePeers }, outs, checkWrite(outs)),
};
const gaps = {
  [`Forge ${io.backend}`]: await largestTimerGap(() => io.batchRead(small)),
  readFileSync: await largestTimerGap(async () => small.map((p) => fs.readFileSync(p))),
  'Promise.all(readFile)': await largestTimerGap(() => Promise.all(small.map((p) => fs.promises.readFile(p)))),
};

const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--uv-child'], {
  env: { ...process.env, UV_USE_IO_URING: '1', ROUNDS: String(ROUNDS) },
  encoding: 'utf8',
  maxBuffer: 1 << 20,
});
if (child.status === 0) {
  const uv = JSON.parse(child.stdout);
  for (const k of Object.keys(uv)) if (results[k]) for (const [n, v] of Object.entries(uv[k])) results[k][`${n} [UV_USE_IO_URING=1]`] = v;
  gaps['Promise.all(readFile) [UV_USE_IO_URING=1]'] = uv.gap;
} else console.warn(`UV_USE_IO_URING=1 child failed: ${child.stderr}`);

const forgeName = `Forge ${io.backend}`;
const titles = {
  read1x4k: 'batchRead 1 × 4 KiB',
  read10x4k: 'batchRead 10 × 4 KiB',
  read4k: 'batchRead 1,000 × 4 KiB',
  read1m: 'batchRead 100 × 1 MiB',
  write4k: 'batchWrite 1,000 × 4 KiB',
  write4kSync: 'batchWrite 1,000 × 4 KiB, sync',
};
for (const [k, row] of Object.entries(results)) {
  console.log(`\n${titles[k]}`);
  const f = row[forgeName];
  for (const [n, v] of Object.entries(row)) {
    const ratio = n === forgeName ? '' : `  Forge is ${(v / f).toFixed(2)}× (peer/Forge)`;
    console.log(`  ${n.padEnd(48)} ${v.toFixed(2).padStart(9)} ms${ratio}`);
  }
}
console.log('\nLargest event-loop timer gap during batchRead 1,000 × 4 KiB (median of 5 runs)');
for (const [n, v] of Object.entries(gaps)) console.log(`  ${n.padEnd(48)} ${v.toFixed(2).padStart(9)} ms`);

const r = results;
const goal = (label, ok, detail) => console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${label}: ${detail}`);
console.log('\nGoals');
goal('batchRead 1,000 × 4 KiB ≥ 5× Promise.all(readFile)', r.read4k['Promise.all(readFile)'] / r.read4k[forgeName] >= 5, `${(r.read4k['Promise.all(readFile)'] / r.read4k[forgeName]).toFixed(2)}×`);
goal('batchRead 1,000 × 4 KiB ≥ 1.0× readFileSync loop', r.read4k.readFileSync / r.read4k[forgeName] >= 1, `${(r.read4k.readFileSync / r.read4k[forgeName]).toFixed(2)}×`);
goal('largest timer gap ≤ 10 ms', gaps[forgeName] <= 10, `${gaps[forgeName].toFixed(2)} ms`);
goal('batchWrite 1,000 × 4 KiB ≥ 1.25× Promise.all(writeFile)', r.write4k['Promise.all(writeFile)'] / r.write4k[forgeName] >= 1.25, `${(r.write4k['Promise.all(writeFile)'] / r.write4k[forgeName]).toFixed(2)}×`);
goal('100 × 1 MiB no slower than Promise.all(readFile)', r.read1m['Promise.all(readFile)'] / r.read1m[forgeName] >= 1, `${(r.read1m['Promise.all(readFile)'] / r.read1m[forgeName]).toFixed(2)}×`);

await io.close();
await fb.close();
