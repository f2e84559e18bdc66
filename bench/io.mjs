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
 * The I/O goals are judged against libuv's io_uring, the strongest peer here for plain
 * reads and writes: that child times Forge too, interleaved with it, so each goal's ratio
 * comes from one process and one stretch of time (the machine may be shared). The child
 * also times the page-cache limit of 100 × 1 MiB: a memcpy-bound reader (one reused buffer).
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
    if (res === undefined) return; // the page-cache limit keeps nothing
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

/**
 * The page-cache limit for 100 × 1 MiB: open/readSync/close into ONE reused buffer, so nothing is
 * allocated or first-touched; what is left is the kernel's copy out of the page cache (plus three
 * syscalls a file) on one thread.
 */
function pageCacheLimit() {
  const buf = Buffer.allocUnsafeSlow(MiB);
  return async (set) => {
    for (const p of set) {
      const fd = fs.openSync(p, 'r');
      // Into the same buffer again and again; the position moves on until EOF.
      for (let pos = 0, n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; ) pos += n;
      fs.closeSync(fd);
    }
  };
}

if (process.argv[2] === '--uv-child') {
  // libuv's io_uring and Forge in ONE process, interleaved: the ratios the I/O goals are judged by.
  const { createPlatformIO } = await import(dist);
  const io = await createPlatformIO();
  const forge = (ps) => io.batchRead(ps);
  const uvRead = readPeers['Promise.all(readFile)'];
  const out = {
    backend: io.backend,
    read4k: await measure({ Forge: forge, 'Promise.all(readFile)': uvRead }, small, checkRead(small)),
    read1m: await measure({ Forge: forge, 'Promise.all(readFile)': uvRead, 'page-cache limit': pageCacheLimit() }, large, checkRead(large)),
    write4k: await measure(
      { Forge: (ps) => io.batchWrite(ps.map((p, i) => ({ path: p, data: wdata[i] }))), 'Promise.all(writeFile)': writePeers['Promise.all(writeFile)'] },
      outs,
      checkWrite(outs),
    ),
    write4kSync: await measure({ 'Promise.all(write+sync)': syncWritePeers['Promise.all(write+sync)'] }, outs, checkWrite(outs)),
    gap: await largestTimerGap(() => Promise.all(small.map((p) => fs.promises.readFile(p)))),
  };
  await io.close();
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

console.log(
  `bench/io — ${os.cpus().length} cores, ${os.arch()}, Linux ${os.release()}, Node ${process.versions.node}; median of ${ROUNDS} rounds (ms); warm cache; data in ${root}`,
);
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
/** Forge against libuv's io_uring, both timed in the child: { key: { forge, uv, ratio } }, and the page-cache limit. */
const vsUring = {};
let limit;
if (child.status === 0) {
  const uv = JSON.parse(child.stdout);
  for (const k of ['read4k', 'read1m', 'write4k', 'write4kSync']) {
    const peer = Object.keys(uv[k]).find((n) => n.startsWith('Promise.all'));
    results[k][`${peer} [UV_USE_IO_URING=1]`] = uv[k][peer];
    if (uv[k].Forge !== undefined) vsUring[k] = { forge: uv[k].Forge, uv: uv[k][peer], ratio: uv[k][peer] / uv[k].Forge };
  }
  limit = { ms: uv.read1m['page-cache limit'], forge: uv.read1m.Forge };
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
if (Object.keys(vsUring).length) {
  console.log("\nForge against libuv's io_uring (UV_USE_IO_URING=1): both timed in one child process, interleaved");
  for (const [k, v] of Object.entries(vsUring)) {
    console.log(
      `  ${titles[k].padEnd(26)} Forge ${v.forge.toFixed(2).padStart(8)} ms   libuv io_uring ${v.uv.toFixed(2).padStart(8)} ms   ${v.ratio.toFixed(2)}×`,
    );
  }
}
if (limit) {
  const gib = 100 / 1024 / (limit.ms / 1000);
  console.log(
    `\nPage-cache limit, 100 × 1 MiB (open/readSync/close into one reused buffer, one thread): ${limit.ms.toFixed(2)} ms = ${gib.toFixed(2)} GiB/s; Forge takes ${(limit.forge / limit.ms).toFixed(2)}× that`,
  );
}
console.log("\nGoals (the I/O goals are judged against libuv's io_uring, timed in the same process)");
const vs = (k, min, label) => {
  const v = vsUring[k];
  if (!v) return goal(label, false, 'not measured (the UV_USE_IO_URING=1 child failed)');
  goal(label, v.ratio >= min, `${v.ratio.toFixed(2)}× (Forge ${v.forge.toFixed(2)} ms, libuv io_uring ${v.uv.toFixed(2)} ms)`);
};
vs('read1m', 1.0, "batchRead 100 × 1 MiB ≥ 1.0× libuv's io_uring");
vs('write4k', 1.25, "batchWrite 1,000 × 4 KiB ≥ 1.25× libuv's io_uring");
vs('read4k', 5, "batchRead 1,000 × 4 KiB ≥ 5× libuv's io_uring");
goal(
  'batchRead 1,000 × 4 KiB ≥ 1.0× readFileSync loop',
  r.read4k.readFileSync / r.read4k[forgeName] >= 1,
  `${(r.read4k.readFileSync / r.read4k[forgeName]).toFixed(2)}×`,
);
goal('largest timer gap ≤ 10 ms', gaps[forgeName] <= 10, `${gaps[forgeName].toFixed(2)} ms`);

await io.close();
await fb.close();
