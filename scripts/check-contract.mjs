// Contract check (`npm run check:contract`, the first step of `npm test`). Fails when these drift
// apart: wit/forge.wit, the generated types (gen/types), the component
// (build/forge-core.component.wasm) and its jco bindings (gen/jco), the core module
// (build/forge-core.wasm) and the direct loader (host/node/core/<iface>.ts). Steps 2-5 run for both
// core modules: the scalar one above and the SIMD one (build/forge-core-simd.wasm,
// build/forge-core-simd.component.wasm, gen/jco-simd), which must export the same functions; the
// scalar module must also contain no SIMD instruction.
//
//  1. types:     `jco types` of wit/ into a temp dir equals gen/types/{core,host} byte for byte.
//  2. component: a component made NOW from wit/ + build/forge-core.wasm (embed + new, which
//                validates every export against the WIT) has the same interface signatures as the
//                built component, whose world exports the same interfaces as world `core`.
//  3. bindings:  gen/jco holds the same core module as build/forge-core.wasm.
//  4. module:    every core export is a WIT function of world core, its post-return, or one of
//                memory/cabi_realloc/forge_scratch: nothing extra.
//  5. loader:    host/node/core/<iface>.ts exists for every interface, and `bindings(core)` has
//                exactly one function per WIT function (camelCase, as jco names them); building
//                it looks up every export it calls, so a wrong name fails here too.
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew, componentWit, print } from '@bytecodealliance/jco';
import binaryen from 'binaryen';
import { loadCoreAs, transpileLoader } from './lib/transpile-loader.mjs';
import { buildTypes } from './build-types.mjs';
import { embedWorld } from './embed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => join(root, ...p);
const failures = [];
const fail = (step, msg) => failures.push(`[${step}] ${msg}`);
const camel = (kebab) => kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

function listFiles(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}

/** Extra lines of `a` vs `b` as a short unified-style excerpt. */
function lineDiff(a, b, max = 12) {
  const al = a.split('\n'),
    bl = b.split('\n');
  const out = [];
  for (let i = 0; i < Math.max(al.length, bl.length) && out.length < max; i++) {
    if (al[i] !== bl[i]) out.push(`      line ${i + 1}: expected ${JSON.stringify(al[i] ?? '')}\n               found    ${JSON.stringify(bl[i] ?? '')}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- 1. generated types
function checkTypes(tmp) {
  const fresh = join(tmp, 'types');
  buildTypes(fresh);
  for (const world of ['core', 'host']) {
    const want = listFiles(join(fresh, world)).sort();
    const have = listFiles(at('gen', 'types', world)).sort();
    for (const f of want.filter((f) => !have.includes(f))) fail('types', `gen/types/${world}/${f} is missing`);
    for (const f of have.filter((f) => !want.includes(f))) fail('types', `gen/types/${world}/${f} is stale: wit/ no longer generates it`);
    for (const f of want.filter((f) => have.includes(f))) {
      const a = readFileSync(join(fresh, world, f), 'utf8');
      const b = readFileSync(at('gen', 'types', world, f), 'utf8');
      if (a !== b) fail('types', `gen/types/${world}/${f} differs from what wit/forge.wit generates now:\n${lineDiff(a, b)}`);
    }
  }
}

// ---------------------------------------------------------------- 2. component
/**
 * The lifted functions of a component, normalised: `iface#fn: (func …)` with every type index
 * replaced by its definition, read from the component's text form.
 */
async function componentSignatures(bytes) {
  const types = new Map();
  const sigs = new Map();
  const resolve = (text, depth = 0) =>
    depth > 20 ? text : text.replace(/(?<=[\s(])(\d+)(?=[\s)])/g, (n) => `(${resolve(types.get(Number(n)) ?? `?${n}`, depth + 1)})`);
  for (const line of (await print(bytes)).split('\n')) {
    let m = /^ {2}\(type \(;(\d+);\) (.*)\)$/.exec(line);
    if (m) types.set(Number(m[1]), m[2]);
    m = /^ {2}\(func \$\S+ \(;\d+;\) \(type (\d+)\) \(canon lift \(core func \$(\S+?)@[^#]+#([^\s)]+)\)/.exec(line);
    if (m) {
      const iface = m[2].replace(/^[^/]+\//, '');
      sigs.set(`${iface}#${m[3]}`, resolve(types.get(Number(m[1])) ?? `?${m[1]}`));
    }
  }
  return sigs;
}

/** The two core modules: their file stem and their jco output directory under gen/. */
const MODULES = [
  { kind: 'scalar', stem: 'forge-core', jco: 'jco' },
  { kind: 'simd', stem: 'forge-core-simd', jco: 'jco-simd' },
];

async function checkComponent({ stem }) {
  const coreBytes = readFileSync(at('build', `${stem}.wasm`));
  let fresh;
  try {
    fresh = await componentNew(await embedWorld(coreBytes, at('wit'), 'core'));
  } catch (e) {
    fail(
      'component',
      `build/${stem}.wasm does not implement world core of wit/forge.wit: ${String(e.message ?? e)
        .split('\n')
        .slice(0, 6)
        .join(' | ')}`,
    );
    return null;
  }
  const built = readFileSync(at('build', `${stem}.component.wasm`));
  const want = await componentSignatures(fresh);
  const have = await componentSignatures(built);
  for (const [fn, sig] of want) {
    if (!have.has(fn)) fail('component', `build/${stem}.component.wasm lacks ${fn} (rebuild: npm run build:component)`);
    else if (have.get(fn) !== sig) fail('component', `${fn} in build/${stem}.component.wasm is ${have.get(fn)}\n      but wit/forge.wit says ${sig}`);
  }
  for (const fn of have.keys()) if (!want.has(fn)) fail('component', `build/${stem}.component.wasm exports ${fn}, which wit/forge.wit no longer has`);
  // World level: the same interfaces, checked on the component's embedded WIT.
  const dummyWorld = await componentWit(await componentNew(await componentEmbed({ dummy: true, witPath: at('wit'), world: 'core', stringEncoding: 'utf8' })));
  const builtWorld = await componentWit(built);
  if (dummyWorld.trim() !== builtWorld.trim()) {
    fail('component', `the component's world differs from world core:\n${lineDiff(dummyWorld, builtWorld)}`);
  }
  return want;
}

// ---------------------------------------------------------------- 3. jco bindings
/** The module without custom sections (names, producers): what actually runs. */
function stripCustomSections(bytes) {
  const parts = [bytes.subarray(0, 8)];
  let p = 8;
  while (p < bytes.length) {
    const start = p;
    const id = bytes[p++];
    let size = 0,
      shift = 0,
      b;
    do {
      b = bytes[p++];
      size |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    p += size;
    if (id !== 0) parts.push(bytes.subarray(start, p));
  }
  return Buffer.concat(parts);
}

function checkJcoBindings({ stem, jco }) {
  const jcoCore = at('gen', jco, 'forge-core.core.wasm');
  if (!existsSync(jcoCore)) return fail('jco', `gen/${jco}/ is missing (run npm run build:component)`);
  if (!stripCustomSections(readFileSync(jcoCore)).equals(stripCustomSections(readFileSync(at('build', `${stem}.wasm`))))) {
    fail('jco', `gen/${jco}/ was transpiled from another build of build/${stem}.wasm (run npm run build:component)`);
  }
}

// ---------------------------------------------------------------- 4. module exports
const ALLOWED_EXTRA = new Set(['memory', 'cabi_realloc', 'forge_scratch', '_initialize']);

function checkModuleExports(sigs, { kind, stem }) {
  const bytes = readFileSync(at('build', `${stem}.wasm`));
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length) fail('module', `build/${stem}.wasm imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}; it must import nothing`);
  for (const { name } of WebAssembly.Module.exports(module)) {
    const m = /^(?:cabi_post_)?[^/]+\/([^@]+)@[^#]+#(.+)$/.exec(name);
    if (m) {
      if (!sigs.has(`${m[1]}#${m[2]}`)) fail('module', `export "${name}" is not a function of world core in wit/forge.wit`);
    } else if (!ALLOWED_EXTRA.has(name)) {
      fail(
        'module',
        `build/${stem}.wasm: unexpected export "${name}": only Canonical-ABI functions, memory, cabi_realloc and forge_scratch may be exported (core/index.ts)`,
      );
    }
  }
  // The portable module runs where SIMD does not (wasm2c 1.0.32, older engines).
  const text = binaryen.readBinary(bytes);
  text.setFeatures(binaryen.Features.All);
  const vectorOps = (text.emitText().match(/\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./g) ?? []).length;
  text.dispose();
  if (kind === 'scalar' && vectorOps) fail('module', `build/${stem}.wasm contains ${vectorOps} SIMD instructions; the portable module must have none`);
  if (kind === 'simd' && !vectorOps) fail('module', `build/${stem}.wasm contains no SIMD instruction (built without --enable simd?)`);
}

// ---------------------------------------------------------------- 5. direct loader
async function checkLoader(sigs, kind) {
  const byIface = new Map();
  for (const key of sigs.keys()) {
    const [iface, fn] = key.split('#');
    if (!byIface.has(iface)) byIface.set(iface, []);
    byIface.get(iface).push(fn);
  }
  const loader = transpileLoader();
  try {
    await checkBindings(byIface, loader, kind);
  } finally {
    loader.cleanup();
  }
}

async function checkBindings(byIface, loader, kind) {
  const { core, loaded } = await loadCoreAs(loader, kind);
  if (loaded !== kind) fail('loader', `FORGE_CORE=${kind} loaded the ${loaded} module`);
  for (const [iface, fns] of byIface) {
    if (!existsSync(at('host', 'node', 'core', `${iface}.ts`))) {
      fail('loader', `host/node/core/${iface}.ts is missing: no direct binding for interface ${iface}`);
      continue;
    }
    const mod = await loader.importModule(`core/${iface}`);
    if (typeof mod.bindings !== 'function') {
      fail('loader', `host/node/core/${iface}.ts does not export bindings(core)`);
      continue;
    }
    let bound;
    try {
      bound = mod.bindings(core);
    } catch (e) {
      fail('loader', `bindings() of host/node/core/${iface}.ts failed: ${e.message}`);
      continue;
    }
    const want = fns.map(camel).sort();
    const have = Object.keys(bound).sort();
    for (const k of want.filter((k) => !have.includes(k)))
      fail('loader', `host/node/core/${iface}.ts binds no ${k} (WIT ${iface}#${fns.find((f) => camel(f) === k)})`);
    for (const k of have.filter((k) => !want.includes(k)))
      fail('loader', `host/node/core/${iface}.ts binds ${k}, which is not a function of interface ${iface} in wit/forge.wit`);
    for (const k of have) if (typeof bound[k] !== 'function') fail('loader', `host/node/core/${iface}.ts: ${k} is not a function`);
  }
}

// ---------------------------------------------------------------- main
const tmp = mkdtempSync(join(tmpdir(), 'forge-contract-'));
let sigs = null;
try {
  checkTypes(tmp);
  for (const mod of MODULES) {
    const got = await checkComponent(mod);
    sigs ??= got;
    checkJcoBindings(mod);
    if (got && got.size === 0) fail('component', 'found no lifted functions in the component (parser out of date?)');
    if (got) {
      checkModuleExports(got, mod);
      await checkLoader(got, mod.kind);
    }
  }
} catch (e) {
  fail('check', e.stack ?? String(e));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`check:contract FAILED (${failures.length}): wit/forge.wit, gen/types, the component, gen/jco and the loader disagree.`);
  for (const f of failures) console.error(`  ${f}`);
  console.error('Fix: edit wit/forge.wit and the core/loader together, then run `npm run build` to regenerate.');
  process.exit(1);
}
console.log(
  `check:contract OK: ${sigs.size} functions of world core agree across wit/forge.wit, gen/types, the components, gen/jco and gen/jco-simd, the exports of both core modules (scalar: no SIMD) and the direct loader on each`,
);
