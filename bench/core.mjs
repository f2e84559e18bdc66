// Core benchmark (`npm run bench:core`): SHA-256 of the Forge core (direct loader) against
// node:crypto (OpenSSL, SHA-NI where the CPU has it), hash-wasm and @chainsafe/as-sha256, all in
// one process run; then the LZ4 part (bench/core-lz4.mjs) when present.
// Needs a build (`npm run build`): it measures dist/ and build/forge-core.wasm, what ships.
//   node bench/core.mjs [--quick] [--no-lz4]
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
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
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

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
const jco = await import(pathToFileURL(join(root, 'gen', 'jco', 'forge-core.js')).href);
const hw = await createSHA256();
const hashWasm = (d) => { hw.init(); hw.update(d); return hw.digest('binary'); };
const nodeCrypto = (d) => createHash('sha256').update(d).digest();

const impls = [
  ['forge (core, direct loader)', sha256],
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
if (sha256Batch(small).some((d, i) => Buffer.from(d).toString('hex') !== nodeCrypto(small[i]).toString('hex'))) {
  throw new Error('forge batch: wrong digest');
}

// Round robin: every implementation is measured once per round, so a change in the machine's
// load hits all of them alike; each figure is the median over the rounds.
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rounds = quick ? 3 : 7;
const bigMs = impls.map(() => []), smallMs = impls.map(() => []), batchMs = [];
for (const [, f] of impls) { f(big); for (const d of small) f(d); }
sha256Batch(small);
for (let r = 0; r < rounds; r++) {
  impls.forEach(([, f], i) => {
    bigMs[i].push(timePerCall(() => f(big), { runs: 1, warm: 0, minMs: 0 }));
    smallMs[i].push(timePerCall(() => { for (const d of small) f(d); }, { runs: 1, warm: 0 }) / small.length);
  });
  batchMs.push(timePerCall(() => sha256Batch(small), { runs: 1, warm: 0 }) / small.length);
}
const rows = impls.map(([name], i) => ({ name, mbps: big.length / 1e6 / (median(bigMs[i]) / 1e3), ops: 1e3 / median(smallMs[i]) }));
const batchOps = 1e3 / median(batchMs);

const forge = rows[0];
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`SHA-256 — ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}, load avg ${loadavg()[0].toFixed(1)}; per CPU-second, median of runs`);
console.log(`\n| implementation | ${big.length >> 20} MiB one-shot MB/s | forge / peer | 4 KiB ops/s | forge / peer |`);
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const peer = r === forge;
  console.log(`| ${r.name} | ${fmt(r.mbps)} | ${peer ? '' : fmt(forge.mbps / r.mbps, 2) + 'x'} | ${fmt(r.ops)} | ${peer ? '' : fmt(forge.ops / r.ops, 2) + 'x'} |`);
}
const hwRow = rows.find((r) => r.name === 'hash-wasm');
console.log(`| forge sha256Batch (1000 × 4 KiB per call) | | | ${fmt(batchOps)} | ${fmt(batchOps / hwRow.ops, 2)}x vs hash-wasm one at a time |`);
console.log('\n| small call | direct loader ns/call | jco bindings ns/call | jco / direct |');
console.log('|---|---:|---:|---:|');
for (const o of overhead) console.log(`| ${o.label} | ${fmt(o.directNs)} | ${fmt(o.jcoNs)} | ${fmt(o.jcoNs / o.directNs, 1)}x |`);
console.log('\nGoals:');
console.log(`- one-shot >= 1.1x hash-wasm on ${big.length >> 20} MiB: ${fmt(forge.mbps / hwRow.mbps, 2)}x`);
console.log(`- batch over 4 KiB inputs >= 2.5x hash-wasm one at a time: ${fmt(batchOps / hwRow.ops, 2)}x`);

if (!process.argv.includes('--no-lz4') && existsSync(join(root, 'bench', 'core-lz4.mjs'))) {
  const { runLz4Bench } = await import(pathToFileURL(join(root, 'bench', 'core-lz4.mjs')).href);
  await runLz4Bench(quick ? { corpusSize: 8 << 20, randomSize: 4 << 20, runs: 2 } : {});
}
