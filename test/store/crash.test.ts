import { describe, it, expect } from 'vitest';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { Index } from '../../host/node/index-db/index.js';
import { DIST, requireDist, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));

function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, DIST, String(seed)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('message', () => setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(signal);
      else reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('SIGKILL at random moments, 20 times: no corrupt object, no partial file under a final name, index only names present objects', async () => {
    requireDist('store/blob-store.js');
    const t = tempDir('forge-crash-');
    try {
      for (let round = 0; round < 20; round++) {
        const killAfter = 20 + Math.floor(Math.random() * 300);
        expect(await runAndKill(t.dir, round * 7919 + 1, killAfter)).toBe('SIGKILL');
      }
      const store = await BlobStore.open(t.dir, { workers: 0 });
      const index = await Index.open(`${t.dir}/index.db`);
      try {
        const referenced = await index.referencedHashes();
        expect(referenced.size).toBeGreaterThan(0);
        const report = await store.verify({ expected: referenced });
        // Opening the store removed the tmp leftovers of the killed writers: verify finds no problem at all.
        expect(report.problems).toEqual([]);
        expect(report.corrupt).toBe(0);
        expect(report.missing).toBe(0);
        for (const h of referenced) expect(await store.has(h)).toBe(true);
        for (const v of await index.files()) {
          const data = await store.get(v.hash!);
          expect(data.length).toBe(v.size);
        }
        // gc clears the leftovers of the killed writers (tmpMaxAgeMs 0) and keeps everything referenced.
        const gc = await store.gc({ keep: referenced, minAgeMs: 0, tmpMaxAgeMs: 0 });
        expect(gc.tmpRemoved).toBe(report.tmp);
        expect((await store.verify({ expected: referenced })).ok).toBe(true);
      } finally {
        await store.close();
        await index.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
