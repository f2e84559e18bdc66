// Verifies vectors/*.json through every implementation of both core modules, the scalar
// build/forge-core.wasm and the SIMD build/forge-core-simd.wasm:
//   direct   the direct loader (host/node/core/*.ts, transpiled on the fly), with FORGE_CORE set
//            to the module under test (and coreInfo() checked to report it)
//   jco      the jco-transpiled component bindings (gen/jco/, gen/jco-simd/)
//   native   build/forge-core.wasm translated by wabt's wasm2c, compiled by gcc, driven through
//            test/vectors/native/harness.c (scalar only: wasm2c 1.0.32 rejects SIMD)
//   interp   the module in wabt's interpreter (spectest-interp, which runs SIMD): each case is
//            recorded on V8 and replayed step by step in the interpreter
//            (scripts/lib/interp-replay.mjs); cases writing more than --interp-max-bytes
//            (default 262144) input bytes are left out of this runner only, and the count is printed
//   node scripts/vectors-check.mjs [--only direct,jco,native,interp] [--module scalar|simd]
//                                  [--interp-max-bytes N] [area...]
// Exits 1 on any mismatch, and when an implementation fails. The native and interp runners need
// Debian's wabt (and gcc): where a tool is absent that runner does not run and one line says so and
// how to enable it; with FORGE_REQUIRE_REFERENCE_TOOLS=1 (CI) an absent tool is a failure instead.
// Pass --only to leave a runner out on purpose.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAreas, readVectors, root } from './lib/vectors.mjs';
import { loadCoreAs, transpileLoader } from './lib/transpile-loader.mjs';
import { buildNativeHarness, NativeCore } from './lib/native-harness.mjs';
import { exportSignatures, RecordingCore, replayWast, runWast } from './lib/interp-replay.mjs';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const runners = onlyAt >= 0 ? args.splice(onlyAt, 2)[1].split(',') : ['direct', 'jco', 'native', 'interp'];
const moduleAt = args.indexOf('--module');
const modules = moduleAt >= 0 ? args.splice(moduleAt, 2)[1].split(',') : ['scalar', 'simd'];
// The engines each module runs in: wasm2c (native) cannot translate SIMD.
const MODULE_RUNNERS = { scalar: ['direct', 'jco', 'native', 'interp'], simd: ['direct', 'jco', 'interp'] };
const MODULE_FILE = { scalar: 'forge-core.wasm', simd: 'forge-core-simd.wasm' };
const JCO_DIR = { scalar: 'jco', simd: 'jco-simd' };
const capAt = args.indexOf('--interp-max-bytes');
const interpMaxBytes = capAt >= 0 ? Number(args.splice(capAt, 2)[1]) : 256 * 1024;
const wanted = args;

// The reference tools each runner needs, with the Debian package that brings them.
const RUNNER_TOOLS = {
  native: [
    ['wasm2c', 'wabt'],
    ['gcc', 'gcc libc6-dev'],
  ],
  interp: [
    ['wast2json', 'wabt'],
    ['spectest-interp', 'wabt'],
  ],
};
const REQUIRE_REFERENCE_TOOLS = process.env.FORGE_REQUIRE_REFERENCE_TOOLS === '1';
const hasCommand = (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
const notRun = [];

const areas = await loadAreas();
const failures = [];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const short = (v) => {
  const s = JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
};

const vectors = [];
for (const [name, area] of areas) {
  if (wanted.length && !wanted.includes(name)) continue;
  const v = readVectors(name);
  if (!v) {
    failures.push(`${name}: vectors/${name}.json is missing (run npm run vectors:generate)`);
    continue;
  }
  if (v.format !== 1) {
    failures.push(`${name}: vectors/${name}.json has format ${v.format}; this checker reads format 1`);
    continue;
  }
  vectors.push({ name, area, cases: v.cases });
}

async function runAll(label, run) {
  const t0 = Date.now();
  let n = 0;
  for (const { name, area, cases } of vectors) {
    for (let i = 0; i < cases.length; i++) {
      const want = area.expected(cases[i]);
      let got;
      try {
        got = await run(area, cases[i]);
      } catch (e) {
        got = `threw: ${e.message}`;
      }
      if (!same(got, want)) failures.push(`${label}: ${name} case ${i}: expected ${short(want)}, got ${short(got)}`);
      n++;
    }
  }
  console.log(`vectors-check: ${label.padEnd(13)} ${n} cases in ${Date.now() - t0} ms`);
}

async function directApis(kind) {
  const loader = transpileLoader();
  const { core, loaded } = await loadCoreAs(loader, kind);
  if (loaded !== kind) failures.push(`direct/${kind}: the loader loaded the ${loaded} module with FORGE_CORE=${kind}`);
  const apis = {};
  for (const iface of ['checksum', 'codec', 'chunker', 'events']) apis[iface] = (await loader.importModule(`core/${iface}`)).bindings(core);
  loader.cleanup();
  return apis;
}

async function runInterp(kind) {
  const t0 = Date.now();
  const bytes = readFileSync(join(root, 'build', MODULE_FILE[kind]));
  const sigs = exportSignatures(bytes);
  const dir = join(root, 'build', kind === 'scalar' ? 'interp' : 'interp-simd');
  mkdirSync(dir, { recursive: true });
  let n = 0,
    skipped = 0;
  for (const { name, area, cases } of vectors) {
    // One instance per area, as in the recording: the replay must reproduce every step.
    const rec = new RecordingCore(bytes, sigs);
    for (let i = 0; i < cases.length; i++) {
      const probe = new RecordingCore(bytes, sigs);
      await area.checkNative(probe, cases[i]);
      if (probe.writtenBytes() > interpMaxBytes) {
        skipped++;
        continue;
      }
      let got;
      try {
        got = await area.checkNative(rec, cases[i]);
      } catch (e) {
        got = `threw: ${e.message}`;
      }
      const want = area.expected(cases[i]);
      if (!same(got, want)) failures.push(`interp/${kind} (V8 recording): ${name} case ${i}: expected ${short(want)}, got ${short(got)}`);
      n++;
    }
    try {
      runWast(dir, name, replayWast(bytes, [{ steps: rec.steps }]));
    } catch (e) {
      failures.push(`interp/${kind}: ${name}: ${e.message}`);
    }
  }
  console.log(
    `vectors-check: ${`interp/${kind}`.padEnd(13)} ${n} cases in ${Date.now() - t0} ms` +
      (skipped ? ` (${skipped} cases over --interp-max-bytes ${interpMaxBytes} checked by the other runners only)` : ''),
  );
}

const ran = [];
for (const runner of runners) {
  const missing = (RUNNER_TOOLS[runner] ?? []).filter(([tool]) => !hasCommand(tool));
  // The native harness compiles against Debian's wasm2c runtime sources (other wabt builds put them elsewhere).
  if (runner === 'native' && !missing.length && !existsSync('/usr/share/wabt/wasm2c/wasm-rt-impl.c')) {
    missing.push(['the wasm2c runtime in /usr/share/wabt/wasm2c', 'wabt']);
  }
  if (missing.length) {
    const tools = missing.map(([t]) => t).join(', ');
    const pkgs = [...new Set(missing.flatMap(([, p]) => p.split(' ')))].join(' ');
    const line = `forge tests: not run: vectors on the ${runner} runner (no ${tools} on PATH) (enable: apt-get install ${pkgs})`;
    if (REQUIRE_REFERENCE_TOOLS) failures.push(`${line}; FORGE_REQUIRE_REFERENCE_TOOLS=1 requires it`);
    else {
      console.log(line);
      notRun.push(runner);
    }
    continue;
  }
  for (const kind of modules) {
    if (!MODULE_RUNNERS[kind]) {
      failures.push(`unknown module "${kind}" (scalar, simd)`);
      continue;
    }
    if (!MODULE_RUNNERS[kind].includes(runner)) continue;
    const label = `${runner}/${kind}`;
    try {
      if (runner === 'direct') {
        const api = await directApis(kind);
        await runAll(label, (area, c) => area.check(api, c));
      } else if (runner === 'jco') {
        const api = await import(pathToFileURL(join(root, 'gen', JCO_DIR[kind], 'forge-core.js')).href);
        await runAll(label, (area, c) => area.check(api, c));
      } else if (runner === 'native') {
        const core = new NativeCore(buildNativeHarness({ log: (m) => console.log(`vectors-check: ${m}`) }));
        try {
          await runAll(label, (area, c) => area.checkNative(core, c));
        } finally {
          await core.close();
        }
      } else if (runner === 'interp') {
        await runInterp(kind);
      } else {
        failures.push(`unknown runner "${runner}" (direct, jco, native, interp)`);
        continue;
      }
      ran.push(label);
    } catch (e) {
      failures.push(`${label}: could not run: ${e.message}`);
    }
  }
}

if (failures.length) {
  console.error(`vectors-check FAILED (${failures.length}):`);
  for (const f of failures.slice(0, 50)) console.error(`  ${f}`);
  if (failures.length > 50) console.error(`  … and ${failures.length - 50} more`);
  process.exit(1);
}
console.log(
  `vectors-check OK: ${vectors.map((v) => `${v.name} (${v.cases.length})`).join(', ')} on ${ran.join(', ')}` +
    (notRun.length ? ` (not run: ${notRun.join(', ')})` : ''),
);
