// verify names each problem once: a corrupt object (or manifest, or chunk) is corrupt, not also missing.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { randomBytes } from 'node:crypto';
import { objectPath } from '../../host/node/store/object-path.js';
import { withStore } from './helpers.js';

function damage(path: string): void {
  chmodSync(path, 0o600);
  writeFileSync(path, Buffer.from('not an lz4 frame at all'));
}

describe('verify report', () => {
  it('a corrupt expected object is reported once, as corrupt', async () => {
    await withStore({ workers: 0 }, async (store, dir) => {
      const hash = await store.put(randomBytes(5000)).then((r) => r.hash);
      damage(objectPath(dir, hash));
      const r = await store.verify({ expected: [hash] });
      expect(r.ok).toBe(false);
      expect({ corrupt: r.corrupt, missing: r.missing }).toEqual({ corrupt: 1, missing: 0 });
      expect(r.problems.map((p) => p.hash)).toEqual([hash]);
    });
  });

  it('a corrupt chunk of a chunked file is reported once; an absent one as missing', async () => {
    await withStore({ workers: 0, chunkThreshold: 4096, cdc: { min: 1024, avg: 2048, max: 4096 } }, async (store, dir) => {
      const data = randomBytes(64 * 1024);
      const put = await store.putFile(
        await (async () => {
          const p = `${dir}/../${Date.now()}-input.bin`;
          writeFileSync(p, data);
          return p;
        })(),
      );
      expect(put.chunks).toBeGreaterThan(2);
      const st = await store.stat(put.hash);
      expect(st?.chunked).toBe(true);
      // Damage the first chunk (read from the manifest through the store's own stat/get).
      const manifest = new TextDecoder().decode(await store.get(put.manifest!));
      const chunk = /chunk ([0-9a-f]{64})/.exec(manifest)![1]!;
      damage(objectPath(dir, chunk));
      const r = await store.verify({ expected: [put.hash, put.manifest!] });
      expect({ corrupt: r.corrupt, missing: r.missing }).toEqual({ corrupt: 1, missing: 0 });
      expect(r.problems[0]!.hash).toBe(chunk);
    });
  });

  it("interrupted writes: a dead writer's tmp is removed on open and by cleanInterruptedWrites; a live writer's is kept and not a problem", async () => {
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await withStore({ workers: 0 }, async (store, dir) => {
        const dead = `${dir}/objects/tmp/aaaaaaaaaaaa-999999999-0-abcd-1`;
        const held = `${dir}/objects/tmp/bbbbbbbbbbbb-${live.pid}-0-abcd-1`;
        writeFileSync(dead, 'partial');
        writeFileSync(held, 'in progress');
        let r = await store.verify();
        expect(r.problems.map((p) => p.path)).toEqual([dead]);
        expect(store.cleanInterruptedWrites()).toEqual({ removed: 1, kept: 1 });
        expect(existsSync(dead)).toBe(false);
        expect(existsSync(held)).toBe(true);
        r = await store.verify();
        expect(r.ok).toBe(true);
        // On open: the writer is gone now.
        live.kill('SIGKILL');
        await new Promise((res) => live.once('exit', res));
        writeFileSync(dead, 'partial');
        const again = await BlobStore.open(dir, { workers: 0 });
        expect(again.leftoversRemoved).toBe(2);
        await again.close();
        expect(existsSync(held)).toBe(false);
      });
    } finally {
      live.kill('SIGKILL');
    }
  });
});
