// LZ4 frame benchmark: Forge's core (direct loader) against lz4-napi (frame API, native),
// lz4-wasm (Rust lz4_flex in WebAssembly; size-prefixed blocks, its only format) and lz4js
// (pure JS frames), plus the ratio of `lz4 -1` (Debian CLI) as the reference.
//
// Inputs: a realistic corpus (JS/TS/JSON sources concatenated from node_modules, >= 32 MiB)
// and random bytes. Prints MB/s (of uncompressed bytes), compressed ratio, and Forge / peer.
// Ends with the three goals, each measured as paired forge/peer rounds in the same run.
// Run alone (`node bench/core-lz4.mjs [--goals]`) or from bench/core.mjs (`runLz4Bench()`).
// Needs the compiled host (`npm run build:ts`) and core (`npm run build:core`).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * JS/TS/JSON sources from node_modules, concatenated in sorted path order, until `size` bytes
 * (dot-directories skipped: tool caches there change between runs).
 */
export function sourceCorpus(size = 32 << 20) {
  const parts = [];
  let total = 0;
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= size) return;
      if (name.startsWith('.')) continue; // caches (.vite, .cache) change between runs
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (/\.(js|mjs|cjs|ts|json)$/.test(name) && st.size > 0 && st.size < 8 << 20) {
        const b = readFileSync(p);
        parts.push(b);
        total += b.length;
      }
    }
  };
  walk(join(root, 'node_modules'));
  return Buffer.concat(parts).subarray(0, size);
}

/** lz4-wasm 0.9.2 ships a bundler build only: load its glue and .wasm by hand. */
async function loadLz4Wasm() {
  const dir = dirname(require.resolve('lz4-wasm/package.json'));
  const glue = readFileSync(join(dir, 'lz4_wasm_bg.js'), 'utf8').replace(
    /import \* as wasm from ['"]\.\/lz4_wasm_bg\.wasm['"];?/,
    'let wasm; export function __forgeSetWasm(w) { wasm = w; }',
  );
  const tmp = mkdtempSync(join(tmpdir(), 'forge-lz4wasm-'));
  const gluePath = join(tmp, 'glue.mjs');
  writeFileSync(gluePath, glue);
  const mod = await import(pathToFileURL(gluePath).href);
  rmSync(tmp, { recursive: true, force: true });
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, 'lz4_wasm_bg.wasm')), { './lz4_wasm_bg.js': mod });
  mod.__forgeSetWasm(instance.exports);
  return mod;
}

// A full GC before each measurement, so no implementation pays for the previous one's garbage
// (CPU time counts V8's GC threads too).
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc');

/**
 * Median MB/s of `fn` over `runs` runs (after two warm-ups), for `bytes` uncompressed bytes.
 * Time is this process's CPU time (user + system, process.cpuUsage), not wall-clock time: on a
 * shared 2-core machine other processes' load would otherwise decide the result. Every peer
 * measured here is synchronous and single-threaded, so for them CPU time = wall time when idle.
 */
function measure(fn, bytes, runs) {
  fn();
  fn();
  gc();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  return bytes / 1e6 / times[times.length >> 1];
}

/**
 * Median over `rounds` of (peer CPU time / forge CPU time), each round timing forge and the peer
 * back to back (order alternating), so that load from other processes hits both sides of a ratio
 * alike. Above 1 means forge is faster.
 */
function pairedRatio(forgeFn, peerFn, rounds) {
  forgeFn();
  peerFn();
  const cpu = (fn) => {
    gc();
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  const ratios = [];
  for (let i = 0; i < rounds; i++) {
    let tf;
    let tp;
    if (i & 1) {
      tp = cpu(peerFn);
      tf = cpu(forgeFn);
    } else {
      tf = cpu(forgeFn);
      tp = cpu(peerFn);
    }
    ratios.push(tp / tf);
  }
  ratios.sort((a, b) => a - b);
  return { median: ratios[ratios.length >> 1], min: ratios[0], max: ratios[ratios.length - 1] };
}

function lz4CliRatio(data) {
  const tmp = mkdtempSync(join(tmpdir(), 'forge-lz4cli-'));
  try {
    const file = join(tmp, 'in');
    writeFileSync(file, data);
    const r = spawnSync('lz4', ['-1', '-c', file], { maxBuffer: 1 << 30 });
    if (r.status !== 0) return undefined;
    return r.stdout.length;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const fmt = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** Runs the benchmark and prints its tables; returns the measurements. */
export async function runLz4Bench({ corpusSize = 32 << 20, randomSize = 16 << 20, runs = 5, goalRounds = 9, goalsOnly = false, log = console.log } = {}) {
  let codec;
  try {
    codec = await import(pathToFileURL(join(root, 'dist', 'host', 'node', 'core', 'codec.js')).href);
  } catch (e) {
    throw new Error(`bench/core-lz4: build the host first (npm run build:ts): ${e.message}`);
  }
  const napi = require('lz4-napi');
  const lz4js = require('lz4js');
  const lz4wasm = await loadLz4Wasm();

  const inputs = [
    ['corpus (node_modules JS/TS/JSON)', sourceCorpus(corpusSize)],
    ['random bytes', randomBytes(randomSize)],
  ];
  const results = {};
  log(
    `\nLZ4 frames — ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}; MB/s of uncompressed bytes per CPU-second (median of ${runs})`,
  );
  for (const [label, data] of goalsOnly ? [] : inputs) {
    const impls = [
      ['forge (4 MiB blocks)', (d) => codec.lz4Compress(d), (f) => codec.lz4Decompress(f, { maxSize: data.length })],
      ['forge (64 KiB blocks)', (d) => codec.lz4Compress(d, { blockSize: 65536 }), (f) => codec.lz4Decompress(f, { maxSize: data.length })],
      ['lz4-napi (frame)', (d) => napi.compressFrameSync(d), (f) => napi.decompressFrameSync(f)],
      ['lz4-wasm (block+size)', (d) => lz4wasm.compress(d), (f) => lz4wasm.decompress(f)],
      ['lz4js (frame)', (d) => lz4js.compress(d), (f) => lz4js.decompress(f)],
    ];
    const rows = {};
    for (const [name, c, d] of impls) {
      const slow = name.startsWith('lz4js');
      const r = slow ? Math.max(1, runs >> 2) : runs;
      const frame = c(data);
      const back = d(frame);
      if (Buffer.compare(Buffer.from(back), data) !== 0) throw new Error(`${name}: round trip failed on ${label}`);
      rows[name] = {
        compressMBs: measure(() => c(data), data.length, r),
        decompressMBs: measure(() => d(frame), data.length, r),
        ratio: frame.length / data.length,
      };
    }
    const cli = lz4CliRatio(data);
    rows['lz4 -1 (CLI)'] = { ratio: cli === undefined ? undefined : cli / data.length };
    results[label] = rows;

    const forge = rows['forge (4 MiB blocks)'];
    log(`\n${label}: ${(data.length / 1048576).toFixed(0)} MiB`);
    log('| implementation | compress MB/s | decompress MB/s | ratio (out/in) | forge/peer compress | forge/peer decompress | forge/peer ratio |');
    log('|---|---:|---:|---:|---:|---:|---:|');
    for (const [name, r] of Object.entries(rows)) {
      const peer = name.startsWith('forge (4') ? undefined : r;
      log(
        `| ${name} | ${fmt(r.compressMBs)} | ${fmt(r.decompressMBs)} | ${fmt(r.ratio, 4)} | ${peer?.compressMBs ? fmt(forge.compressMBs / peer.compressMBs, 2) + 'x' : ''} | ${peer?.decompressMBs ? fmt(forge.decompressMBs / peer.decompressMBs, 2) + 'x' : ''} | ${peer?.ratio ? fmt(forge.ratio / peer.ratio, 3) : ''} |`,
      );
    }
  }
  // The goals, each from paired rounds on the corpus (forge: 4 MiB blocks, content checksum on,
  // as lz4Compress's defaults; decompress verifies that checksum; lz4-wasm decodes a plain block).
  const data = inputs[0][1];
  const frame = codec.lz4Compress(data);
  const peerBlock = lz4wasm.compress(data);
  const rounds = goalRounds;
  const c = pairedRatio(
    () => codec.lz4Compress(data),
    () => lz4wasm.compress(data),
    rounds,
  );
  const d = pairedRatio(
    () => codec.lz4Decompress(frame, { maxSize: data.length }),
    () => lz4wasm.decompress(peerBlock),
    rounds,
  );
  const cliBytes = goalsOnly ? lz4CliRatio(data) : undefined;
  const cli = goalsOnly ? (cliBytes === undefined ? undefined : cliBytes / data.length) : results[inputs[0][0]]['lz4 -1 (CLI)'].ratio;
  const r = cli ? frame.length / data.length / cli : undefined;
  const met = (ok) => (ok ? 'met' : 'NOT MET');
  const span = (x) => `${fmt(x.median, 2)}x (min ${fmt(x.min, 2)}x, max ${fmt(x.max, 2)}x over ${rounds} paired rounds)`;
  log(
    `\nGoals (corpus; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}):`,
  );
  log(`- LZ4 frame compress >= 1.05x lz4-wasm: ${span(c)}: ${met(c.median >= 1.05)}`);
  log(`- LZ4 frame decompress with checksum >= 1.0x lz4-wasm block decode: ${span(d)}: ${met(d.median >= 1.0)}`);
  log(
    `- ratio within 2% of lz4 -1 (forge ratio / lz4 -1 ratio <= 1.02): ${r === undefined ? '- (lz4 CLI missing: apt-get install lz4): NOT MET' : `${fmt(r, 4)}: ${met(r <= 1.02)}`}`,
  );
  results.goals = { compressVsLz4Wasm: c, decompressVsLz4Wasm: d, ratioVsLz4Cli: r };
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // --goals: only the three goal lines (paired rounds), for quick iteration.
  await runLz4Bench({ goalsOnly: process.argv.includes('--goals') });
}
