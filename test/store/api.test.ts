// API shape: put and putFile return the same result; BlobStore and Index close through
// `await using`; a store left open does not keep its process alive.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { Index } from '../../host/node/index-db/index.js';
import { requireDist, sha256Hex, tempDir } from './helpers.js';

describe('store API', () => {
  it('put and putFile return the same shape for the same content', async () => {
    const t = tempDir();
    try {
      const store = await BlobStore.open(join(t.dir, 's'), { workers: 0 });
      for (const size of [10, 3 << 20]) {
        const data = randomBytes(size);
        const file = join(t.dir, `f${size}`);
        writeFileSync(file, data);
        const a = await store.put(data);
        const b = await store.putFile(file);
        expect(a.hash).toBe(sha256Hex(data));
        expect({ ...b, storedBytes: a.storedBytes }).toEqual(a);
        expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      }
      await store.close();
    } finally {
      t.cleanup();
    }
  });

  it('await using closes BlobStore and Index at the end of the block', async () => {
    const t = tempDir();
    try {
      let store: BlobStore | undefined;
      let index: Index | undefined;
      {
        await using s = await BlobStore.open(join(t.dir, 's'), { workers: 0 });
        await using i = await Index.open(join(t.dir, 's', 'index.db'));
        store = s;
        index = i;
        const { hash, size } = await s.put(new TextEncoder().encode('hi'));
        await i.addVersion({ path: 'a', kind: 'created', hash, size });
      }
      await expect(store.get('00'.repeat(32))).rejects.toThrow(/closed/);
      await expect(index.latest('a')).rejects.toThrow(/closed/);
    } finally {
      t.cleanup();
    }
  });

  it('a store left open after a put of more than 100 kB does not keep the process alive', () => {
    const blobStore = requireDist('store/blob-store.js');
    const t = tempDir();
    try {
      const script = `
        const { BlobStore } = await import(${JSON.stringify(blobStore)});
        const store = await BlobStore.open(${JSON.stringify(join(t.dir, 's'))});
        const { randomBytes } = await import('node:crypto');
        const { hash } = await store.put(randomBytes(300_000));
        await store.get(hash);
        await Promise.all([1, 2, 3, 4].map(() => store.get(hash))); // decode workers too
        console.log('done ' + hash);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, 'the process did not exit on its own').toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^done [0-9a-f]{64}/);
      expect(existsSync(join(t.dir, 's', 'store.json'))).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
