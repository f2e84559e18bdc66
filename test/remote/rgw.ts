// The remote tests run against a real Ceph RGW started by scripts/ceph/start-rgw.sh, which writes its
// endpoint and S3 keys to $FORGE_RGW_DIR/env (default /tmp/forge-rgw/env). Without a running cluster
// they skip with one line, unless FORGE_REQUIRE_REFERENCE_TOOLS=1 (CI), where that fails instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REQUIRE_REFERENCE_TOOLS } from '../support/reference-tools.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const forgeBin = path.join(repo, 'bin', 'forge.js');
export const rgwDir = process.env['FORGE_RGW_DIR'] ?? '/tmp/forge-rgw';
const script = (name: string) => path.join(repo, 'scripts', 'ceph', name);

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** The env file as key/value pairs, or undefined when no cluster was started. */
function readEnvFile(): Record<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(rgwDir, 'env'), 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) out[m[1]!] = m[2]!;
  return out;
}

function answers(endpoint: string): boolean {
  return spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', endpoint + '/']).stdout?.toString() === '200';
}

/** The cluster's settings when one is running; else one skip line (or a throw under FORGE_REQUIRE_REFERENCE_TOOLS=1). */
export function rgwAvailable(): Record<string, string> | undefined {
  const env = readEnvFile();
  const ok = env !== undefined && env['FORGE_RGW_ENDPOINT'] !== undefined && answers(env['FORGE_RGW_ENDPOINT']);
  if (ok) return env;
  const line =
    'forge tests: not run: remote push/clone against a Ceph RGW (no cluster running; enable: sudo scripts/ceph/start-rgw.sh, which runs apt-get install ceph-mon ceph-osd radosgw)';
  if (REQUIRE_REFERENCE_TOOLS) throw new Error(`${line}; FORGE_REQUIRE_REFERENCE_TOOLS=1 requires it`);
  process.stderr.write(line + '\n');
  return undefined;
}

export interface Rgw {
  endpoint: string;
  env: NodeJS.ProcessEnv;
  s3: S3Client;
  /** A fresh bucket for one test. */
  bucket(): Promise<string>;
  /** Stops radosgw only (the cluster keeps running). */
  stopGateway(): void;
  startGateway(): void;
}

export function connect(vars: Record<string, string>): Rgw {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const endpoint = vars['FORGE_RGW_ENDPOINT']!;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: vars['AWS_ACCESS_KEY_ID'],
    AWS_SECRET_ACCESS_KEY: vars['AWS_SECRET_ACCESS_KEY'],
    AWS_REGION: vars['AWS_REGION'] ?? 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    FORGE_RGW_DIR: rgwDir,
  };
  delete env['AWS_PROFILE'];
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: vars['AWS_ACCESS_KEY_ID']!, secretAccessKey: vars['AWS_SECRET_ACCESS_KEY']! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    env,
    s3,
    async bucket() {
      const name = `forge-test-${randomBytes(6).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    stopGateway() {
      const r = spawnSync('bash', [script('stop-rgw.sh'), 'rgw'], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`stop-rgw.sh rgw failed: ${r.stderr}`);
    },
    startGateway() {
      const r = spawnSync('bash', [script('restart-rgw.sh')], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`restart-rgw.sh failed: ${r.stderr}`);
    },
  };
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) out.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return r.Body!.transformToByteArray();
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the forge CLI (dist/) to completion. */
export function forge(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [forgeBin, ...args], { cwd: opts.cwd ?? os.tmpdir(), env: opts.env, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the forge CLI without waiting. */
export function forgeAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess & { done: Promise<Run> } {
  const child = spawn(process.execPath, [forgeBin, ...args], { cwd: opts.cwd ?? os.tmpdir(), env: opts.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return Object.assign(child, { done });
}

/** Writes `files` (relative path → content) under `dir`. */
export function writeTree(dir: string, files: Record<string, Uint8Array | string>): void {
  for (const [rel, data] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
  }
}

/** Every regular file under `dir` (except .forge) → its SHA-256, by `/` path. */
export function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.forge') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) out.set(r, sha256(fs.readFileSync(path.join(d, e.name))));
    }
  };
  walk(dir, '');
  return out;
}

/** Records the tree's current state (`forge watch --once`). */
export function record(dir: string, env: NodeJS.ProcessEnv): void {
  const r = forge(['watch', dir, '--once', '--no-metrics', '--log-level', 'warn'], { env });
  if (r.status !== 0) throw new Error(`forge watch --once failed (${r.status}): ${r.stderr}`);
}

export function tmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `forge-remote-${label}-`));
}

/** Adds remote `name` for `bucket` to the store of `dir`. */
export function addRemote(dir: string, name: string, bucket: string, prefix: string, rgw: Rgw): void {
  const r = forge(['remote', 'add', name, `s3://${bucket}/${prefix}`, '--endpoint', rgw.endpoint, '--path-style', '--root', dir], { env: rgw.env });
  if (r.status !== 0) throw new Error(`remote add failed: ${r.stderr}`);
}
