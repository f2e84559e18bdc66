#!/usr/bin/env node
/**
 * bench/remote.mjs — `forge push` / `forge clone` against the local Ceph RGW,
 * beside restic (Debian's restic, `restic -r s3:http://127.0.0.1:7480/<bucket>`)
 * and `rclone copy` of the raw tree (Debian's rclone), in one run.
 *
 *   sudo scripts/ceph/start-rgw.sh && npm run build:ts && npm run bench:remote
 *
 * Tree: the one bench:daemon uses — a copy of this project's node_modules, plus
 * (to pass 20,000 files) a second copy of its files under 64 KiB with one byte
 * appended. PUT requests are counted by radosgw itself (its `rgw.put` perf
 * counter, via the admin socket), bytes stored by listing each bucket.
 *
 * Goals (ratio = anchor / forge unless said):
 *   first upload: forge watch --once + forge push <= restic init + backup; forge push alone >= 2x faster than restic backup
 *   size/requests: bytes stored <= restic's; PUTs <= restic's
 *   incremental (100 files changed): forge push <= 0.5x restic's incremental backup
 *   clone: forge clone (whole history, checkout) within 1.5x of restic restore of the latest snapshot
 *
 * Env: BENCH_REMOTE_DIR (work dir, default $TMPDIR/forge-bench-remote), KEEP=1 keeps it,
 * FORGE_RGW_DIR (default /tmp/forge-rgw).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareTree } from './lib/tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..');
const forgeBin = path.join(repo, 'bin', 'forge.js');
const work = process.env.BENCH_REMOTE_DIR ?? path.join(os.tmpdir(), 'forge-bench-remote');
const rgwDir = process.env.FORGE_RGW_DIR ?? '/tmp/forge-rgw';

if (!fs.existsSync(path.join(repo, 'dist', 'host', 'node', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build:ts` first');
  process.exit(1);
}
let envText;
try {
  envText = fs.readFileSync(path.join(rgwDir, 'env'), 'utf8');
} catch {
  console.error(`no Ceph RGW running (${rgwDir}/env missing): start one with sudo scripts/ceph/start-rgw.sh`);
  process.exit(1);
}
for (const tool of ['restic', 'rclone']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} is missing: apt-get install ${tool}`);
    process.exit(1);
  }
}
const rgwVars = Object.fromEntries([...envText.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
const endpoint = rgwVars.FORGE_RGW_ENDPOINT;
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: rgwVars.AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: rgwVars.AWS_SECRET_ACCESS_KEY,
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  RESTIC_PASSWORD: 'bench',
  RCLONE_CONFIG_RGW_TYPE: 's3',
  RCLONE_CONFIG_RGW_PROVIDER: 'Ceph',
  RCLONE_CONFIG_RGW_ENDPOINT: endpoint,
  RCLONE_CONFIG_RGW_ACCESS_KEY_ID: rgwVars.AWS_ACCESS_KEY_ID,
  RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY: rgwVars.AWS_SECRET_ACCESS_KEY,
  FORGE_IGNORE: '!node_modules',
};
// The endpoint is plain http on loopback; a CA bundle from the environment makes rclone refuse to start.
delete env.AWS_CA_BUNDLE;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { S3Client, CreateBucketCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
const s3 = new S3Client({
  endpoint,
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

function run(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 28, encoding: 'utf8', ...opts });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.slice(-2000)}`);
  return { ms: t, stdout: r.stdout, stderr: r.stderr };
}

/** radosgw's own count of PUT requests (perf counter rgw.put). */
function rgwPuts() {
  const asok = path.join(rgwDir, 'run', 'asok', 'client.rgw.a.asok');
  const r = spawnSync('ceph', ['--admin-daemon', asok, 'perf', 'dump'], { encoding: 'utf8' });
  if (r.status !== 0) return NaN;
  const dump = JSON.parse(r.stdout);
  return dump.rgw?.put ?? NaN;
}

async function bucketBytes(bucket, prefix = '') {
  let bytes = 0;
  let objects = 0;
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) {
      bytes += o.Size ?? 0;
      objects++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { bytes, objects };
}

function listFiles(dir) {
  const out = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.forge') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) out.push(p);
    }
  }
  return out.sort();
}

const suffix = Date.now().toString(36);
const buckets = { forge: `bench-forge-${suffix}`, restic: `bench-restic-${suffix}`, rclone: `bench-rclone-${suffix}` };
for (const b of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }));
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

console.log(`bench:remote — Ceph RGW at ${endpoint}, ${os.cpus().length} cores, load ${load()}`);
const { tree, files, bytes } = prepareTree(work, repo);
console.log(`tree: ${files} files, ${mib(bytes)} (${tree})`);
spawnSync('sync');

// ---- first upload
const forgeArgs = (...a) => [forgeBin, ...a];
let p0 = rgwPuts();
const scan = run(process.execPath, forgeArgs('watch', tree, '--once', '--no-metrics', '--log-level', 'warn'));
run(process.execPath, forgeArgs('remote', 'add', 'bench', `s3://${buckets.forge}/t`, '--endpoint', endpoint, '--path-style', '--root', tree));
const push1 = run(process.execPath, forgeArgs('push', '--host', 'bench', '--json', '--root', tree));
const forgePuts = rgwPuts() - p0;
const push1r = JSON.parse(push1.stdout);
const forgeStored = await bucketBytes(buckets.forge);
console.log(
  `forge: watch --once ${fmt(scan.ms)}, push ${fmt(push1.ms)}: ${push1r.objects} objects in ${push1r.packs} packs + ${push1r.singles} single, ${push1r.requests.requests} requests (${push1r.requests.puts} PUT by forge's count, ${forgePuts} by radosgw's), stored ${mib(forgeStored.bytes)} in ${forgeStored.objects} objects`,
);

const repoArg = ['-r', `s3:${endpoint}/${buckets.restic}`];
p0 = rgwPuts();
const rInit = run('restic', [...repoArg, 'init']);
const rBackup = run('restic', [...repoArg, 'backup', '--quiet', '--host', 'bench', tree]);
const resticPuts = rgwPuts() - p0;
const resticStored = await bucketBytes(buckets.restic);
console.log(
  `restic: init ${fmt(rInit.ms)}, backup ${fmt(rBackup.ms)}, ${resticPuts} PUT (radosgw), stored ${mib(resticStored.bytes)} in ${resticStored.objects} objects`,
);

p0 = rgwPuts();
const rc = run('rclone', ['copy', tree, `rgw:${buckets.rclone}/raw`, '--transfers', '16', '--exclude', '.forge/**']);
const rclonePuts = rgwPuts() - p0;
const rcloneStored = await bucketBytes(buckets.rclone);
console.log(`rclone copy: ${fmt(rc.ms)}, ${rclonePuts} PUT (radosgw), stored ${mib(rcloneStored.bytes)}`);

// ---- incremental: 100 files change
const all = listFiles(tree);
const step = Math.floor(all.length / 100);
for (let i = 0; i < 100; i++) fs.appendFileSync(all[i * step], `\n// changed ${i} ${Date.now()}\n`);
const scan2 = run(process.execPath, forgeArgs('watch', tree, '--once', '--no-metrics', '--log-level', 'warn'));
p0 = rgwPuts();
const push2 = run(process.execPath, forgeArgs('push', '--json', '--root', tree));
const forgePuts2 = rgwPuts() - p0;
const push2r = JSON.parse(push2.stdout);
p0 = rgwPuts();
const rBackup2 = run('restic', [...repoArg, 'backup', '--quiet', '--host', 'bench', tree]);
const resticPuts2 = rgwPuts() - p0;
console.log(
  `incremental (100 files): forge watch --once ${fmt(scan2.ms)}, push ${fmt(push2.ms)} (${push2r.versions} versions, ${push2r.requests.requests} requests, ${forgePuts2} PUT); restic backup ${fmt(rBackup2.ms)} (${resticPuts2} PUT)`,
);

// ---- clone / restore
const cloneDir = path.join(work, 'clone');
spawnSync('sync');
const clone = run(process.execPath, forgeArgs('clone', `s3://${buckets.forge}/t`, cloneDir, '--endpoint', endpoint, '--path-style', '--json'));
const cloneR = JSON.parse(clone.stdout);
const restoreDir = path.join(work, 'restic-restore');
const rRestore = run('restic', [...repoArg, 'restore', 'latest', '--target', restoreDir]);
console.log(
  `clone: forge clone ${fmt(clone.ms)} (${cloneR.versions} versions, ${cloneR.objects} objects, ${cloneR.requests.requests} requests); restic restore latest ${fmt(rRestore.ms)}`,
);

// ---- ratios
const goals = [
  ['first upload: forge watch --once + push vs restic init + backup (<= 1)', (scan.ms + push1.ms) / (rInit.ms + rBackup.ms), (x) => x <= 1],
  ['first upload: restic backup / forge push (>= 2)', rBackup.ms / push1.ms, (x) => x >= 2],
  ['bytes stored: forge / restic (<= 1)', forgeStored.bytes / resticStored.bytes, (x) => x <= 1],
  ['PUT requests: forge / restic (<= 1)', forgePuts / resticPuts, (x) => x <= 1],
  ['incremental: forge push / restic backup (<= 0.5)', push2.ms / rBackup2.ms, (x) => x <= 0.5],
  ['clone: forge clone / restic restore (<= 1.5)', clone.ms / rRestore.ms, (x) => x <= 1.5],
];
console.log(`\nratios (load ${load()}):`);
for (const [name, x, ok] of goals) console.log(`  ${name.padEnd(72)} ${x.toFixed(2).padStart(7)}  ${ok(x) ? 'met' : 'NOT met'}`);
console.log(
  `  (rclone copy of the raw tree: ${fmt(rc.ms)}, ${rclonePuts} PUT, ${mib(rcloneStored.bytes)}; forge push / rclone copy = ${(push1.ms / rc.ms).toFixed(2)})`,
);
if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
s3.destroy();
