// Two builds of a core module side by side in one process (`node bench/core-compare.mjs
// <before.wasm> [<after.wasm>]`, after defaulting to build/forge-core-simd.wasm): LZ4 frame
// compression per input size and SHA-256 batches of 4 KiB inputs, CPU time per call, the two
// builds measured in alternation (median of 15 rounds), and whether their frames are
// byte-identical. For checking an optimization of the core: save the module before the change
// (cp build/forge-core-simd.wasm /tmp/before.wasm), rebuild, compare.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes, textLikeBytes } from '../vectors/prng.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [before, after = join(root, 'build', 'forge-core-simd.wasm')] = process.argv.slice(2);
if (before === undefined || !existsSync(before) || !existsSync(after)) {
  console.error('usage: node bench/core-compare.mjs <before.wasm> [<after.wasm>] (both files must exist)');
  process.exit(2);
}
const importDist = (rel) => import(pathToFileURL(join(root, 'dist', 'host', 'node', rel)).href);
const { lz4Compress } = await importDist('core/codec.js');
const { sha256Batch } = await importDist('core/checksum.js');
const { loadCore } = await importDist('core/loader.js');
const cores = [before, after].map((p) => loadCore(new WebAssembly.Module(readFileSync(p))));
const FRAME = { blockSize: 65536, contentSize: true, contentChecksum: true, blockChecksum: false };

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** Median CPU µs per item of fn(core) over 15 rounds, the two cores alternating within each round. */
function compare(fn, items) {
  const runs = cores.map(() => []);
  for (const c of cores) for (let i = 0; i < 5; i++) fn(c);
  for (let r = 0; r < 15; r++) {
    cores.forEach((c, k) => {
      const t0 = cpuUs();
      let n = 0;
      do {
        fn(c);
        n++;
      } while (cpuUs() - t0 < 20_000);
      runs[k].push((cpuUs() - t0) / n / items);
    });
  }
  return runs.map(median);
}

const sets = [
  ['text-like 64 B', Array.from({ length: 256 }, (_, i) => textLikeBytes(i + 1, 64))],
  ['text-like 1 KiB', Array.from({ length: 256 }, (_, i) => textLikeBytes(i + 1, 1024))],
  ['text-like 4 KiB', Array.from({ length: 256 }, (_, i) => textLikeBytes(i + 1, 4096))],
  ['random 4 KiB', Array.from({ length: 256 }, (_, i) => randomBytes(i + 1, 4096))],
  ['text-like 256 KiB', Array.from({ length: 4 }, (_, i) => textLikeBytes(i + 1, 256 << 10))],
];
console.log(
  `core-compare — ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}, load avg ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(`before: ${before}\nafter:  ${after}\n`);
console.log('| LZ4 frame compress | before µs | after µs | after speed | same bytes |');
console.log('|---|---:|---:|---:|---|');
for (const [label, xs] of sets) {
  const frames = cores.map((c) => xs.map((x) => Buffer.from(lz4Compress(x, FRAME, c))));
  const same = frames[0].every((f, i) => f.equals(frames[1][i]));
  const [b, a] = compare((c) => {
    for (const x of xs) lz4Compress(x, FRAME, c);
  }, xs.length);
  console.log(`| ${label} | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(b / a).toFixed(2)}x | ${same ? 'yes' : 'NO'} |`);
}
const small = Array.from({ length: 1000 }, (_, i) => randomBytes(100 + i, 4096));
const [b, a] = compare((c) => sha256Batch(small, c), small.length);
console.log(`| sha256Batch, 1000 × 4 KiB (per input) | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(b / a).toFixed(2)}x | |`);
