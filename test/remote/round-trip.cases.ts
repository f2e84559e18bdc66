/**
 * Push a recorded history to a real Ceph RGW, clone it into a second store
 * (a second "host" on this machine), and restore every version: the bytes
 * must be what the test wrote, checked with node:crypto against the test's
 * own copies, never against Forge's records.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/reference-tools.js';
import { Index } from '../../host/node/index-db/index.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { addRemote, connect, forge, forgeBin, listKeys, record, rgwAvailable, sha256, tmpDir, treeHashes, writeTree } from './rgw.js';

const vars = rgwAvailable();
const scriptTool = requireTool('script', 'util-linux', 'the clone progress bar on a pseudo-terminal');
// Many CLI child processes against a real cluster: generous on a loaded 2-core machine (no timing is asserted).
const LONG = 400_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!vars)('remote round trip (Ceph RGW)', () => {
  it(
    'every version of every file comes back byte-identical from a clone; log, restore, diff and pull work there',
    async () => {
      const rgw = connect(vars!);
      const bucket = await rgw.bucket();
      const src = tmpDir('src');
      dirs.push(src);
      // What the test wrote, per path, in order: the expected content of each version.
      const written = new Map<string, Buffer[]>();
      const put = (rel: string, data: Buffer) => {
        writeTree(src, { [rel]: data });
        written.set(rel, [...(written.get(rel) ?? []), data]);
      };
      for (let i = 0; i < 40; i++) put(`dir${i % 4}/small-${i}.txt`, Buffer.from(`file ${i}\n${randomBytes(200 + i * 10).toString('hex')}\n`));
      put('big.bin', randomBytes(2_500_000)); // chunked locally: a single object on the remote
      put('same-a.txt', Buffer.from('identical content\n'));
      put('same-b.txt', Buffer.from('identical content\n'));
      record(src, rgw.env);
      for (let round = 1; round <= 3; round++) {
        put('dir0/small-0.txt', Buffer.from(`round ${round}\n`));
        const big = Buffer.from(written.get('big.bin')!.at(-1)!);
        big.write(`round ${round}`, 1000 * round);
        put('big.bin', big);
        record(src, rgw.env);
      }
      fs.rmSync(path.join(src, 'dir1', 'small-1.txt'));
      record(src, rgw.env);
      written.delete('dir1/small-1.txt');

      addRemote(src, 'rgw', bucket, 'team', rgw);
      const pushed = forge(['push', '--host', 'alpha', '--json', '--pack-size', '4K', '--root', src], { env: rgw.env });
      expect(pushed.stderr).toBe('');
      expect(pushed.status).toBe(0);
      const r = JSON.parse(pushed.stdout) as { objects: number; packs: number; singles: number; versions: number; requests: { puts: number } };
      expect(r.packs).toBeGreaterThan(1);
      expect(r.singles).toBe(4); // four versions of big.bin
      // Every pack on the remote is named by the SHA-256 of its bytes (sha via node:crypto).
      const packKeys = await listKeys(rgw.s3, bucket, 'team/packs/');
      expect(packKeys.length).toBe(r.packs);

      const again = forge(['push', '--host', 'alpha', '--json', '--root', src], { env: rgw.env });
      expect(JSON.parse(again.stdout)).toMatchObject({ upToDate: true, objects: 0 });

      const dst = tmpDir('dst');
      dirs.push(dst);
      const clone = path.join(dst, 'clone');
      const c = forge(['clone', `s3://${bucket}/team`, clone, '--endpoint', rgw.endpoint, '--path-style', '--json'], { env: rgw.env });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
      // The checkout equals the source tree, file for file.
      expect(treeHashes(clone)).toEqual(treeHashes(src));
      // On a terminal (a real pty through script(1)) the clone draws a progress bar, then clears it for the summary.
      if (scriptTool) {
        const onTty = path.join(dst, 'clone-tty');
        const cmd = [process.execPath, forgeBin, 'clone', `s3://${bucket}/team`, onTty, '--endpoint', rgw.endpoint, '--path-style']
          .map((a) => `'${a}'`)
          .join(' ');
        const t = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: rgw.env, encoding: 'utf8' });
        expect(t.status, t.stdout).toBe(0);
        expect(t.stdout).toMatch(/\r\[#*-*\] +\d+% clone: \d+\/\d+ files/);
        expect(t.stdout).toMatch(/\r\x1b\[K[\s\S]*cloned alpha:/);
        expect(treeHashes(onTty)).toEqual(treeHashes(src));
      }

      // Every recorded version of every path holds the bytes written, in order (the clone's own index and store).
      const index = await Index.open(path.join(clone, '.forge', 'index.db'));
      const store = await BlobStore.open(path.join(clone, '.forge'));
      try {
        for (const [rel, contents] of written) {
          const versions = (await index.versions(rel)).filter((v) => v.hash !== null);
          expect(versions.length, rel).toBe(contents.length);
          for (let k = 0; k < versions.length; k++) expect(sha256(await store.get(versions[k]!.hash!)), `${rel} #${k}`).toBe(sha256(contents[k]!));
        }
      } finally {
        await store.close();
        await index.close();
      }
      // And through the CLI, for the files with several versions.
      for (const rel of ['dir0/small-0.txt', 'big.bin']) {
        const log = forge(['log', rel, '--json'], { cwd: clone, env: rgw.env });
        expect(log.status).toBe(0);
        const versions = JSON.parse(log.stdout) as Array<{ seq: number }>;
        expect(versions.length).toBe(4);
        for (let k = 0; k < versions.length; k++) {
          const out = path.join(dst, `v-${k}`);
          const res = forge(['restore', rel, '--version', String(versions[k]!.seq), '--to', out, '--force'], { cwd: clone, env: rgw.env });
          expect(res.status, res.stderr).toBe(0);
          expect(sha256(fs.readFileSync(out))).toBe(sha256(written.get(rel)![k]!));
        }
      }
      // The removed file's history came along too.
      const removedLog = JSON.parse(forge(['log', 'dir1/small-1.txt', '--json'], { cwd: clone, env: rgw.env }).stdout) as Array<{ kind: string }>;
      expect(removedLog.map((v) => v.kind)).toEqual(['created', 'removed']);
      const diff = forge(['diff', 'dir0/small-0.txt'], { cwd: clone, env: rgw.env });
      expect(diff.status).toBe(0);
      expect(diff.stdout).toContain('-round 2');
      expect(diff.stdout).toContain('+round 3');

      // A new version on the origin reaches the clone with pull.
      put('dir2/new.txt', Buffer.from('after the clone\n'));
      record(src, rgw.env);
      expect(forge(['push', '--root', src], { env: rgw.env }).status).toBe(0);
      const pull = forge(['pull', '--json'], { cwd: clone, env: rgw.env });
      expect(pull.status, pull.stderr).toBe(0);
      expect(JSON.parse(pull.stdout)).toMatchObject({ versions: 1, objects: 1 });
      const out = path.join(dst, 'pulled');
      expect(forge(['restore', 'dir2/new.txt', '--to', out], { cwd: clone, env: rgw.env }).status).toBe(0);
      expect(fs.readFileSync(out, 'utf8')).toBe('after the clone\n');

      // --at: the tree as it was before the rounds; --no-checkout writes no files.
      const early = path.join(dst, 'early');
      const firstTime = (JSON.parse(forge(['log', 'dir0/small-0.txt', '--json'], { cwd: clone, env: rgw.env }).stdout) as Array<{ timeMs: number }>)[0]!.timeMs;
      const e = forge(['clone', `s3://${bucket}/team`, early, '--endpoint', rgw.endpoint, '--path-style', '--at', String(firstTime + 1)], { env: rgw.env });
      expect(e.status, e.stderr).toBe(0);
      expect(fs.readFileSync(path.join(early, 'dir0', 'small-0.txt'))).toEqual(written.get('dir0/small-0.txt')![0]);
      const bare = path.join(dst, 'bare');
      expect(forge(['clone', `s3://${bucket}/team`, bare, '--endpoint', rgw.endpoint, '--path-style', '--no-checkout'], { env: rgw.env }).status).toBe(0);
      expect(fs.readdirSync(bare)).toEqual(['.forge']);

      const verify = forge(['remote', 'verify', '--root', src], { env: rgw.env });
      expect(verify.stdout, verify.stderr).toMatch(/^ok: 1 host/m);
      expect(verify.status).toBe(0);
    },
    LONG,
  );
});
