/**
 * Two hosts sharing one remote (content one pushed is not uploaded by the
 * other, both histories intact), and the refusals: bad credentials, a
 * missing bucket, a tampered pack.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addRemote, connect, forge, getObject, listKeys, putObject, record, rgwAvailable, tmpDir, treeHashes, writeTree } from './rgw.js';

const vars = rgwAvailable();
// Many CLI child processes against a real cluster: generous on a loaded 2-core machine (no timing is asserted).
const LONG = 400_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tree(label: string, files: Record<string, Uint8Array>): string {
  const d = tmpDir(label);
  dirs.push(d);
  writeTree(d, files);
  return d;
}

describe.skipIf(!vars)('remote with several hosts, and refusals (Ceph RGW)', () => {
  it(
    'two hosts with overlapping content share objects; each history clones intact',
    async () => {
      const rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const shared: Record<string, Uint8Array> = {};
      for (let i = 0; i < 30; i++) shared[`lib/shared-${i}.js`] = randomBytes(3000);
      const onlyA: Record<string, Uint8Array> = { 'a.txt': randomBytes(5000) };
      const onlyB: Record<string, Uint8Array> = { 'b.txt': randomBytes(7000), 'lib/shared-0.js': randomBytes(100) }; // B changed one shared file
      const a = tree('host-a', { ...shared, ...onlyA });
      const b = tree('host-b', { ...shared, ...onlyB });
      record(a, rgw.env);
      record(b, rgw.env);
      addRemote(a, 'r', bucket, 'multi', rgw);
      addRemote(b, 'r', bucket, 'multi', rgw);
      const pa = JSON.parse(forge(['push', '--host', 'a', '--json', '--root', a], { env: rgw.env }).stdout) as { objects: number; deduplicated: number };
      expect(pa).toMatchObject({ objects: 31, deduplicated: 0 });
      const pbRun = forge(['push', '--host', 'b', '--json', '--root', b], { env: rgw.env });
      expect(pbRun.status, pbRun.stderr).toBe(0);
      const pb = JSON.parse(pbRun.stdout) as { objects: number; deduplicated: number; bytes: number };
      // 29 shared files unchanged: uploaded by a only; b sends its 2 own contents plus the changed one.
      expect(pb.deduplicated).toBe(29);
      expect(pb.objects).toBe(2);
      expect(pb.bytes).toBeLessThan(7000 + 100 + 2000);
      expect((await listKeys(rgw.s3, bucket, 'multi/hosts/')).filter((k) => k.endsWith('head.json')).sort()).toEqual([
        'multi/hosts/a/head.json',
        'multi/hosts/b/head.json',
      ]);

      const dst = tmpDir('hosts-dst');
      dirs.push(dst);
      for (const [host, src] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const out = path.join(dst, host);
        const c = forge(['clone', `s3://${bucket}/multi`, out, '--host', host, '--endpoint', rgw.endpoint, '--path-style'], { env: rgw.env });
        expect(c.status, c.stderr).toBe(0);
        expect(treeHashes(out)).toEqual(treeHashes(src));
      }
      // Without --host the clone has to ask which one.
      const ambiguous = forge(['clone', `s3://${bucket}/multi`, path.join(dst, 'x'), '--endpoint', rgw.endpoint, '--path-style'], { env: rgw.env });
      expect(ambiguous.status).toBe(1);
      expect(ambiguous.stderr).toMatch(/several hosts \(a, b\).*--host/s);
      expect(fs.existsSync(path.join(dst, 'x'))).toBe(false);
      const v = forge(['remote', 'verify', '--root', a], { env: rgw.env });
      expect(v.status, v.stdout).toBe(0);
      expect(v.stdout).toMatch(/^ok: 2 host\(s\)/m);
    },
    LONG,
  );

  it(
    'bad credentials and a missing bucket are configuration errors with a suggestion, not retried',
    async () => {
      const rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tree('refuse', { 'a.txt': Buffer.from('a\n') });
      record(src, rgw.env);
      addRemote(src, 'good', bucket, 'p', rgw);
      addRemote(src, 'nobucket', `${bucket}-absent`, 'p', rgw);
      const bad = forge(['push', 'good', '--root', src, '--debug'], { env: { ...rgw.env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-wrong-secret-wrong-secret00' } });
      expect(bad.status).toBe(78);
      expect(bad.stderr).toContain('refused the credentials');
      expect(bad.stderr).toMatch(/hint: .*AWS_ACCESS_KEY_ID/);
      expect(bad.stderr).not.toMatch(/retrying/);
      const missing = forge(['push', 'nobucket', '--root', src], { env: rgw.env });
      expect(missing.status).toBe(78);
      expect(missing.stderr).toContain(`bucket '${bucket}-absent' does not exist`);
      expect(missing.stderr).toMatch(/hint: Create it/);
      // Nothing reached the good bucket from the failed attempts.
      expect(await listKeys(rgw.s3, bucket, '')).toEqual([]);
    },
    LONG,
  );

  it(
    'a tampered pack is an integrity error: the clone writes nothing, verify names the damage and what it affects',
    async () => {
      const rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tree('tamper', { 'victim.txt': randomBytes(4000), 'other.txt': randomBytes(4000) });
      record(src, rgw.env);
      addRemote(src, 'r', bucket, 't', rgw);
      expect(forge(['push', '--host', 'h', '--root', src], { env: rgw.env }).status).toBe(0);
      const [packKey] = await listKeys(rgw.s3, bucket, 't/packs/');
      const pack = Buffer.from(await getObject(rgw.s3, bucket, packKey!));
      pack[pack.length - 10] ^= 0xff;
      await putObject(rgw.s3, bucket, packKey!, pack);

      const dst = tmpDir('tamper-dst');
      dirs.push(dst);
      const out = path.join(dst, 'clone');
      const c = forge(['clone', `s3://${bucket}/t`, out, '--endpoint', rgw.endpoint, '--path-style'], { env: rgw.env });
      expect(c.status).toBe(1);
      expect(c.stderr).toMatch(/remote pack .* is damaged: its SHA-256 is/);
      expect(c.stderr).toContain('category: integrity');
      expect(fs.existsSync(out)).toBe(false);

      const v = forge(['remote', 'verify', '--root', src], { env: rgw.env });
      expect(v.status).toBe(1);
      expect(v.stdout).toMatch(/damaged: .*packs\/[0-9a-f]{64}: its SHA-256 is/);
      expect(v.stdout).toMatch(/affects .*h:(victim|other)\.txt@\d/);
    },
    LONG,
  );
});
