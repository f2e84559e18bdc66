// Core benchmark (`npm run bench:core`): SHA-256 of both Forge core modules (direct loader), the
// SIMD build/forge-core-simd.wasm and the scalar build/forge-core.wasm side by side, against
// node:crypto (OpenSSL, SHA-NI where the CPU has it), hash-wasm and @chainsafe/as-sha256, all in
// one process run; then the LZ4 part (bench/core-lz4.mjs) when present.
// Needs a build (`npm run build`): it measures dist/ and build/forge-core.wasm, what ships.
//   node bench/core.mjs [--quick] [--no-lz4]
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createSHA256 } from 'hash-wasm';
import * as asSha from '@chainsafe/as-sha256';
import { randomBytes } from '../vectors/prng.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

async function importDist(name) {
  const file = join(root, 'dist', 'host', 'node', `${name}.js`);
  if (!existsSync(file)) throw new Error(`bench/core: ${file} is missing: run \`npm run build\` first`);
  return import(pathToFileURL(file).href);
}

/** CPU microseconds of this process so far (user + system). */
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * Median CPU time per call of `fn` (ms) over `runs` runs, after `warm` unmeasured calls; calls
 * repeat to >= minMs of CPU per run. CPU time, not wall time: on a shared machine wall time mostly
 * measures the other jobs.
 */
function timePerCall(fn, { runs = 5, warm = 3, minMs = 50 } = {}) {
  for (let i = 0; i < warm; i++) fn();
  // Calls per clock reading: reading the CPU clock is a syscall, which would swamp small calls.
  let k = 1;
  for (;;) {
    const t0 = cpuUs();
    for (let i = 0; i < k; i++) fn();
    if (cpuUs() - t0 >= 2000 || k >= 1 << 20) break;
    k *= 2;
  }
  const times = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = cpuUs();
    let dt;
    do {
      for (let i = 0; i < k; i++) fn();
      n += k;
      dt = (cpuUs() - t0) / 1e3;
    } while (dt < minMs);
    times.push(dt / n);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const { sha256, sha256Batch, xxh32 } = await importDist('core/checksum');
const { coreInfo, coreWasmPath, loadCore } = await importDist('core/loader');
// One instance of each module; the default instance (small-call overhead below) is the loader's choice.
const cores = Object.fromEntries(['simd', 'scalar'].map((kind) => [kind, loadCore(new WebAssembly.Module(readFileSync(coreWasmPath(kind))))]));
const jco = await import(pathToFileURL(join(root, 'gen', 'jco', 'forge-core.js')).href);
const hw = await createSHA256();
const hashWasm = (d) => {
  hw.init();
  hw.update(d);
  return hw.digest('binary');
};
const nodeCrypto = (d) => createHash('sha256').update(d).digest();

const impls = [
  ['forge SIMD module (direct loader)', (d) => sha256(d, cores.simd)],
  ['forge scalar module (direct loader)', (d) => sha256(d, cores.scalar)],
  ['node:crypto', nodeCrypto],
  ['hash-wasm', hashWasm],
  ['@chainsafe/as-sha256', (d) => asSha.digest(d)],
];

// Call overhead first, before the large buffers exist: xxh32 of 32 B is almost all crossing.
const tiny = randomBytes(7, 32);
const overhead = [
  ['sha256, 32 B', () => sha256(tiny), () => jco.checksum.sha256(tiny)],
  ['xxh32, 32 B', () => xxh32(tiny, 0), () => jco.checksum.xxh32(tiny, 0)],
].map(([label, direct, viaJco]) => ({
  label,
  directNs: timePerCall(direct, { runs: 5, minMs: 100 }) * 1e6,
  jcoNs: timePerCall(viaJco, { runs: 5, minMs: 100 }) * 1e6,
}));

const big = randomBytes(1, (quick ? 16 : 64) << 20);
const small = Array.from({ length: 1000 }, (_, i) => randomBytes(100 + i, 4096));
const want = nodeCrypto(big).toString('hex');
for (const [name, f] of impls) {
  if (Buffer.from(f(big)).toString('hex') !== want) throw new Error(`${name}: wrong digest`);
}
const batches = [
  ['simd', (xs) => sha256Batch(xs, cores.simd)],
  ['scalar', (xs) => sha256Batch(xs, cores.scalar)],
];
for (const [kind, batch] of batches) {
  if (batch(small).some((d, i) => Buffer.from(d).toString('hex') !== nodeCrypto(small[i]).toString('hex'))) {
    throw new Error(`forge batch (${kind}): wrong digest`);
  }
}

// Round robin: every implementation is measured once per round, so a change in the machine's
// load hits all of them alike; each figure is the median over the rounds.
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rounds = quick ? 3 : 7;
const bigMs = impls.map(() => []),
  smallMs = impls.map(() => []),
  batchMs = batches.map(() => []);
for (const [, f] of impls) {
  f(big);
  for (const d of small) f(d);
}
for (const [, batch] of batches) batch(small);
for (let r = 0; r < rounds; r++) {
  impls.forEach(([, f], i) => {
    bigMs[i].push(timePerCall(() => f(big), { runs: 1, warm: 0, minMs: 0 }));
    smallMs[i].push(
      timePerCall(
        () => {
          for (const d of small) f(d);
        },
        { runs: 1, warm: 0 },
      ) / small.length,
    );
  });
  batches.forEach(([, batch], i) => batchMs[i].push(timePerCall(() => batch(small), { runs: 1, warm: 0 }) / small.length));
}
const rows = impls.map(([name], i) => ({ name, mbps: big.length / 1e6 / (median(bigMs[i]) / 1e3), ops: 1e3 / median(smallMs[i]) }));
const batchOps = batchMs.map((ms) => 1e3 / median(ms));

const [simdRow, scalarRow] = rows;
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(
  `SHA-256 — ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}, load avg ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; per CPU-second, median of ${rounds} rounds`,
);
console.log(`default module here: ${coreInfo().module} (${coreInfo().reason})`);
console.log(`\n| implementation | ${big.length >> 20} MiB one-shot MB/s | SIMD / peer | scalar / peer | 4 KiB ops/s | SIMD / peer | scalar / peer |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
const vs = (a, b) => (a === b ? '' : `${fmt(a / b, 2)}x`);
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.mbps)} | ${vs(simdRow.mbps, r.mbps)} | ${vs(scalarRow.mbps, r.mbps)} | ${fmt(r.ops)} | ${vs(simdRow.ops, r.ops)} | ${vs(scalarRow.ops, r.ops)} |`,
  );
}
const hwRow = rows.find((r) => r.name === 'hash-wasm');
batches.forEach(([kind], i) => {
  console.log(
    `| forge sha256Batch, ${kind} module (1000 × 4 KiB per call) | | | | ${fmt(batchOps[i])} | ${fmt(batchOps[i] / hwRow.ops, 2)}x vs hash-wasm one at a time | |`,
  );
});
console.log('\n| small call (default module) | direct loader ns/call | jco bindings ns/call | jco / direct |');
console.log('|---|---:|---:|---:|');
for (const o of overhead) console.log(`| ${o.label} | ${fmt(o.directNs)} | ${fmt(o.jcoNs)} | ${fmt(o.jcoNs / o.directNs, 1)}x |`);
const goal = (label, ratio, target) => console.log(`  ${ratio >= target ? 'met    ' : 'NOT met'}  ${label} >= ${target}x: ${fmt(ratio, 2)}x`);
console.log('\nGoals (same run):');
goal(`one-shot ${big.length >> 20} MiB vs hash-wasm, SIMD module`, simdRow.mbps / hwRow.mbps, 1.1);
goal(`one-shot ${big.length >> 20} MiB vs hash-wasm, scalar module`, scalarRow.mbps / hwRow.mbps, 1.1);
goal('batch over 4 KiB inputs vs hash-wasm one at a time, SIMD module', batchOps[0] / hwRow.ops, 2.5);
goal('batch over 4 KiB inputs vs hash-wasm one at a time, scalar module', batchOps[1] / hwRow.ops, 2.5);

if (!process.argv.includes('--no-lz4') && existsSync(join(root, 'bench', 'core-lz4.mjs'))) {
  const { runLz4Bench } = await import(pathToFileURL(join(root, 'bench', 'core-lz4.mjs')).href);
  await runLz4Bench(quick ? { corpusSize: 8 << 20, randomSize: 4 << 20, runs: 2 } : {});
}
