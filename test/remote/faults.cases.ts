/**
 * Faults against a real Ceph RGW: pushes killed with SIGKILL at random
 * points (each rerun completes, nothing is sent twice that had arrived, the
 * remote verifies clean), and radosgw itself stopped during a push and during
 * `forge watch --push` (the push fails as `network` after its retries or
 * resumes; recording never stops; nothing is lost).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../support/reference-tools.js';
import { addRemote, connect, forge, forgeAsync, listKeys, record, rgwAvailable, tmpDir, treeHashes, writeTree, type Rgw } from './rgw.js';

const vars = rgwAvailable();
// Stopping and restarting the gateway needs the user who started it (root, in CI); other users run the rest.
const canRestart = vars !== undefined && requireRoot('the radosgw outage cases (they stop and restart the root-owned gateway)');
// Many CLI child processes against a real cluster: generous on a loaded 2-core machine (no timing is asserted).
const LONG = 400_000;
const dirs: string[] = [];
let rgw: Rgw | undefined;
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  // Whatever a test did to the gateway, leave it running for the next file.
  if (canRestart && rgw && !gatewayUp(rgw)) rgw.startGateway();
});

function gatewayUp(r: Rgw): boolean {
  try {
    const pid = Number(fs.readFileSync(r.env['FORGE_RGW_DIR'] + '/run/pid/client.rgw.a.pid', 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

function randomFiles(prefix: string, n: number, size: number): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (let i = 0; i < n; i++) out[`${prefix}/f${i}.bin`] = randomBytes(size);
  return out;
}

function cloneMatches(r: Rgw, bucket: string, prefix: string, src: string, host: string): void {
  const out = tmpDir('clone');
  dirs.push(out);
  fs.rmSync(out, { recursive: true });
  const c = forge(['clone', `s3://${bucket}/${prefix}`, out, '--host', host, '--endpoint', r.endpoint, '--path-style'], { env: r.env });
  expect(c.status, c.stderr).toBe(0);
  expect(treeHashes(out)).toEqual(treeHashes(src));
}

async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get(url, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe.skipIf(!vars)('remote faults (Ceph RGW)', () => {
  it(
    'a push killed with SIGKILL at 10 random points: every rerun completes without resending what arrived; verify is clean',
    async () => {
      rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tmpDir('kill');
      dirs.push(src);
      writeTree(src, randomFiles('base', 120, 6000));
      record(src, rgw.env);
      addRemote(src, 'r', bucket, 'k', rgw);
      for (let round = 0; round < 10; round++) {
        writeTree(src, randomFiles(`round${round}`, 12, 6000));
        record(src, rgw.env);
        const child = forgeAsync(['push', '--host', 'k', '--pack-size', '16K', '--root', src], { env: rgw.env });
        await sleep(100 + Math.floor(Math.random() * 700));
        child.kill('SIGKILL');
        await child.done;
        const indexesBefore = (await listKeys(rgw.s3, bucket, 'k/index/')).length;
        const rerun = forge(['push', '--host', 'k', '--pack-size', '16K', '--json', '--root', src], { env: rgw.env });
        expect(rerun.status, rerun.stderr).toBe(0);
        const r = JSON.parse(rerun.stdout) as { packs: number; upToDate: boolean };
        // Each pack the rerun sent added one new index: no pack that had arrived with its index was sent again.
        expect((await listKeys(rgw.s3, bucket, 'k/index/')).length - indexesBefore).toBe(r.packs);
      }
      const v = forge(['remote', 'verify', '--root', src], { env: rgw.env });
      expect(v.status, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/^ok: 1 host/m);
      cloneMatches(rgw, bucket, 'k', src, 'k');
      // gc with no grace removes what the killed pushes left unreferenced, and the history still verifies and clones.
      const gc = forge(['remote', 'gc', '--grace', '0s', '--json', '--root', src], { env: rgw.env });
      expect(gc.status, gc.stderr).toBe(0);
      expect(forge(['remote', 'verify', '--root', src], { env: rgw.env }).status).toBe(0);
    },
    LONG,
  );

  it.skipIf(!canRestart)(
    'radosgw stopped during a push: the push fails as network after retries (or completes); after restart it resumes and nothing is lost',
    async () => {
      rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tmpDir('outage');
      dirs.push(src);
      writeTree(src, randomFiles('data', 300, 20_000));
      record(src, rgw.env);
      addRemote(src, 'r', bucket, 'o', rgw);
      const child = forgeAsync(['push', '--host', 'o', '--pack-size', '64K', '--root', src], { env: rgw.env });
      await sleep(400);
      rgw.stopGateway();
      const failed = await child.done;
      if (failed.status !== 0) {
        expect(failed.status).toBe(1);
        expect(failed.stderr).toMatch(/attempt \d failed \(network\); retrying/);
        expect(failed.stderr).toContain('category: network');
      }
      // While it is down, a push fails the same way, quickly and clearly.
      const down = forge(['push', '--host', 'o', '--root', src], { env: rgw.env });
      expect(down.status).toBe(1);
      expect(down.stderr).toContain('category: network');
      rgw.startGateway();
      const again = forge(['push', '--host', 'o', '--json', '--root', src], { env: rgw.env });
      expect(again.status, again.stderr).toBe(0);
      expect(forge(['remote', 'verify', '--root', src], { env: rgw.env }).status).toBe(0);
      cloneMatches(rgw, bucket, 'o', src, 'o');
    },
    LONG,
  );

  it.skipIf(!canRestart)(
    'forge watch --push: an outage does not stop recording; pushes resume when radosgw is back; errors and lag in /metrics',
    async () => {
      rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tmpDir('watchpush');
      dirs.push(src);
      writeTree(src, { 'first.txt': 'first\n' });
      record(src, rgw.env);
      addRemote(src, 'r', bucket, 'w', rgw);
      const daemon = forgeAsync(['watch', src, '--push', 'r', '--push-interval', '300ms', '--metrics-address', '127.0.0.1:0', '--debounce-ms', '50'], {
        env: { ...rgw.env, FORGE_HOST: 'w' },
      });
      try {
        let out = '';
        daemon.stdout!.on('data', (d) => (out += d));
        for (let i = 0; i < 200 && !/metrics (http:\S+)/.test(out); i++) await sleep(50);
        const url = /metrics (http:\S+?)\)?$/m.exec(out)![1]!.replace(/\)$/, '');
        // Up to date first.
        for (let i = 0; i < 100 && (await metric(url, 'forge_remote_pushes_total')) === undefined; i++) await sleep(100);
        rgw.stopGateway();
        writeTree(src, { 'during-outage.txt': 'written while the remote was down\n' });
        // Recording goes on: the version is in the local history while pushes fail.
        let errors = 0;
        for (let i = 0; i < 150 && errors === 0; i++) {
          await sleep(100);
          errors = (await metric(url, 'forge_remote_push_errors_total')) ?? 0;
        }
        expect(errors).toBeGreaterThan(0);
        const log = forge(['log', 'during-outage.txt', '--json'], { cwd: src, env: rgw.env });
        expect(log.status, log.stderr).toBe(0);
        expect((await metric(url, 'forge_remote_lag_seconds'))!).toBeGreaterThan(0);
        rgw.startGateway();
        let lag = Infinity;
        for (let i = 0; i < 200 && lag > 0; i++) {
          await sleep(100);
          lag = (await metric(url, 'forge_remote_lag_seconds')) ?? Infinity;
        }
        expect(lag).toBe(0);
      } finally {
        daemon.kill('SIGTERM');
        const end = await daemon.done;
        expect(end.status).toBe(0);
      }
      cloneMatches(rgw, bucket, 'w', src, 'w');
    },
    LONG,
  );
});
