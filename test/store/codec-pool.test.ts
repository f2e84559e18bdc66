import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, requireDist, tempDir } from './helpers.js';

/**
 * Runs in a child process (so that its thread count is the store's alone): puts start the
 * process's codec pool, more puts compress on it, concurrent gets decode on it, a second store
 * shares it. Prints the thread counts of /proc/self/task and what the workers did.
 */
const CHILD = `
import { readdirSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
const [dist, dir] = process.argv.slice(2);
const { BlobStore } = await import(join(dist, 'store/blob-store.js'));
const codec = await import(join(dist, 'store/codec/codec-pool.js'));
const threads = () => readdirSync('/proc/self/task').length;
await readFile(join(dist, 'store/blob-store.js')); // the libuv threadpool is up before counting
const before = threads();
// Half random (frames of 64 KiB and more go to the decode side), half runs (LZ4 has work).
const content = (n) => Array.from({ length: n }, (_, i) => Buffer.concat([randomBytes(200_000 + i * 1000), Buffer.alloc(200_000, 97 + i)]));
const sha = (d) => createHash('sha256').update(d).digest('hex');
const a = await BlobStore.open(join(dir, 'a'), { sync: false, io: false, workers: 2 });
await Promise.all(content(8).map((d) => a.put(d))); // starts the pool (framed here meanwhile)
const pool = codec.sharedCodecPool(2);
while (pool.ready < 2) await new Promise((r) => setTimeout(r, 10));
const jobs = { compress: 0, decode: 0 };
const run = pool.run.bind(pool);
pool.run = (...args) => (jobs.compress++, run(...args));
const tryDecode = pool.tryDecode.bind(pool);
pool.tryDecode = (...args) => { const j = tryDecode(...args); if (j) jobs.decode++; return j; };
const out = { before, stores: [] };
for (const [name, store] of [['a', a], ['b', await BlobStore.open(join(dir, 'b'), { sync: false, io: false, workers: 2 })]]) {
  const items = content(8);
  const hashes = (await Promise.all(items.map((d) => store.put(d)))).map((r) => r.hash);
  const got = await Promise.all(hashes.map((h) => store.get(h)));
  out.stores.push({ name, intact: got.every((g, i) => sha(g) === sha(items[i]) && hashes[i] === sha(items[i])), threads: threads(), ...jobs });
  await store.close();
}
out.poolThreads = pool.threads;
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out));
`;

describe('one codec pool for compression and decoding', () => {
  it.skipIf(process.platform !== 'linux')(
    'puts and concurrent gets of two stores run on the same N workers: the process gains exactly N threads (/proc/self/task)',
    () => {
      requireDist('store/codec/codec-worker.js');
      const t = tempDir();
      try {
        // A file, not --eval: worker threads inherit the process's execArgv.
        const script = join(t.dir, 'child.mjs');
        writeFileSync(script, CHILD);
        mkdirSync(join(t.dir, 'stores'));
        const r = spawnSync(process.execPath, [script, DIST, join(t.dir, 'stores')], { encoding: 'utf8', timeout: 120_000 });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout) as {
          before: number;
          poolThreads: number;
          stores: Array<{ name: string; intact: boolean; threads: number; compress: number; decode: number }>;
        };
        const [a, b] = out.stores;
        expect(out.poolThreads).toBe(2);
        // Store a: its puts compressed on the workers (block ranges of 400 KB contents) and its
        // concurrent gets decoded there, every object intact, with two more threads than before.
        expect(a).toMatchObject({ intact: true, threads: out.before + 2 });
        expect(a!.compress).toBeGreaterThanOrEqual(8);
        expect(a!.decode).toBe(8);
        // Store b: the same workers (no thread more), both jobs again.
        expect(b).toMatchObject({ intact: true, threads: out.before + 2 });
        expect(b!.compress).toBeGreaterThanOrEqual(a!.compress + 8);
        expect(b!.decode).toBe(16);
      } finally {
        t.cleanup();
      }
    },
  );
});
