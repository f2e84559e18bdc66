/**
 * What the io_uring backend keeps after a batch settles: nothing of the caller's results. A read
 * result is the whole file, so a scheduler that kept finished tasks referenced (a queue slot never
 * cleared) would hold every result of the last few thousand reads in memory after the caller dropped
 * them, and every new batch would fault in fresh pages. Checked in a child with --expose-gc: WeakRefs to
 * each result's ArrayBuffer must all be cleared after the results are dropped; the bytes are checked
 * against sha256sum.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureDist, removeDir, tempDir } from './helpers.js';

const linuxOnly = describe.skipIf(process.platform !== 'linux');

let dir: string;
let files: string[];
beforeAll(() => {
  if (process.platform !== 'linux') return;
  dir = tempDir('retain');
  // 20 KiB (one READ below the size hint, its own buffer) and 300 KiB (STATX + a second READ).
  files = Array.from({ length: 24 }, (_, i) => {
    const p = path.join(dir, `f${i}.bin`);
    const b = Buffer.alloc(i % 2 ? 300 * 1024 : 20 * 1024);
    for (let j = 0; j < b.length; j += 4) b.writeUInt32LE((j * 2654435761 + i) >>> 0, j);
    fs.writeFileSync(p, b);
    return p;
  });
});
afterAll(() => {
  if (process.platform !== 'linux') return;
  removeDir(dir);
});

linuxOnly('io_uring backend: settled batches are not retained', () => {
  test('40 batches: every dropped result is collectable, and every batch had the right bytes (sha256sum)', () => {
    ensureDist();
    const dist = path.resolve('dist/host/native/linux/io-uring-backend.js');
    const script = `
      import { createIoUringBackend } from ${JSON.stringify(dist)};
      import { createHash } from 'node:crypto';
      const files = JSON.parse(process.argv[1]);
      const io = createIoUringBackend({ smallBatchSync: 0 });
      const refs = [];
      let hashes;
      // One batch per call, so no frame of this function keeps a batch's array in a register.
      const batch = async () => {
        const rs = await io.batchRead(files);
        const hs = rs.map((r) => (r.ok ? createHash('sha256').update(r.data).digest('hex') : 'error: ' + r.error.message));
        if (hashes === undefined) hashes = hs;
        else if (hs.join() !== hashes.join()) { console.log(JSON.stringify({ mismatch: refs.length })); process.exit(1); }
        for (const r of rs) if (r.ok) refs.push(new WeakRef(r.data.buffer));
      };
      for (let round = 0; round < 40; round++) await batch();
      // Let the last batch's promise machinery unwind, then collect.
      await io.batchRead([files[0]]);
      for (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 20)); gc(); }
      const alive = refs.map((r, i) => (r.deref() !== undefined ? i : -1)).filter((i) => i >= 0);
      await io.close();
      console.log(JSON.stringify({ hashes, results: refs.length, alive }));
    `;
    const res = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, JSON.stringify(files)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout.trim()) as { hashes: string[]; results: number; alive: number[] };
    const expected = execFileSync('sha256sum', files, { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(out.hashes).toEqual(expected);
    expect(out.results).toBe(40 * files.length);
    expect(out.alive).toEqual([]);
  });
});
