/**
 * O_DIRECT batch writes on the real kernel (io_uring backend, `WriteOp.direct`):
 * - on a disk filesystem the aligned head bypasses the page cache: `fincore` (util-linux)
 *   finds at most the tail's page resident right after the write;
 * - where the filesystem refuses O_DIRECT (ramfs, mounted for the test) the write falls
 *   back to buffered quietly and is counted;
 * - any size and sync setting round-trips byte for byte (property, 100 runs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIoUringBackend, type IoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import { DIRECT_ALIGN } from '../../host/native/linux/direct-write-task.js';
import { createFallbackBackend } from '../../host/node/io/fallback-backend.js';
import { removeDir } from './helpers.js';
import { acceptsDirect, diskDir, fsType, mountRamfs, noise as pattern, residentPages } from './direct-helpers.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

const disk = diskDir('direct');
const diskDirect = acceptsDirect(disk);
const ramfs = mountRamfs();
let io: IoUringBackend;

beforeAll(() => {
  if (process.platform !== 'linux') return;
  io = createIoUringBackend({ maxHandles: 64 });
});
afterAll(async () => {
  if (process.platform !== 'linux') return;
  await io.close();
  removeDir(disk);
  ramfs?.unmount();
});

linuxOnly('O_DIRECT batch writes (io_uring)', () => {
  test.skipIf(!diskDirect)(`on ${fsType(disk)}: the aligned head skips the page cache, the tail does not, contents are exact`, async () => {
    const sizes = [1, DIRECT_ALIGN - 1, DIRECT_ALIGN, DIRECT_ALIGN + 1, 1 << 20, (1 << 20) + 100, 3 * (1 << 20) + 4095];
    const ops = sizes.map((n, i) => ({ path: path.join(disk, `f${i}`), data: pattern(n, i + 1), sync: i % 2 === 0, direct: true }));
    const before = io.stats();
    const results = await io.batchWrite(ops);
    results.forEach((r, i) => expect(r).toEqual({ ok: true, bytes: sizes[i] }));
    const aligned = sizes.filter((n) => n >= DIRECT_ALIGN).length;
    expect(io.stats().directWrites - before.directWrites).toBe(aligned);
    expect(io.stats().directFallbacks - before.directFallbacks).toBe(0);
    for (const [i, n] of sizes.entries()) {
      const pages = residentPages(ops[i]!.path);
      if (pages === undefined) break; // fincore absent: contents are still checked below
      // Buffered, the whole file would be resident (n / 4096 pages); direct, only the tail's page at most.
      if (n >= DIRECT_ALIGN) expect(pages, `${n} bytes`).toBeLessThanOrEqual(n % DIRECT_ALIGN === 0 ? 0 : 1);
    }
    for (const op of ops) expect(fs.readFileSync(op.path).equals(op.data)).toBe(true);
  });

  test.skipIf(!diskDirect)('a buffered write of the same size leaves the file in the page cache (the check above can fail)', async () => {
    const p = path.join(disk, 'buffered');
    const [r] = await io.batchWrite([{ path: p, data: pattern(1 << 20, 7), sync: true }]);
    expect(r?.ok).toBe(true);
    const pages = residentPages(p);
    if (pages !== undefined) expect(pages).toBeGreaterThan(200);
  });

  test.skipIf(!diskDirect)('replaces an existing longer file completely (O_TRUNC), direct and buffered parts alike', async () => {
    const p = path.join(disk, 'shrink');
    fs.writeFileSync(p, pattern(5 * DIRECT_ALIGN + 17, 3));
    const data = pattern(2 * DIRECT_ALIGN + 5, 4);
    const [r] = await io.batchWrite([{ path: p, data, direct: true, sync: true }]);
    expect(r).toEqual({ ok: true, bytes: data.length });
    expect(fs.readFileSync(p).equals(data)).toBe(true);
  });

  test.skipIf(ramfs === undefined)('where the filesystem refuses O_DIRECT (ramfs) it writes buffered, counted, with exact contents', async () => {
    const sizes = [DIRECT_ALIGN, (1 << 20) + 3, 10];
    const ops = sizes.map((n, i) => ({ path: path.join(ramfs!.dir, `r${i}`), data: pattern(n, 11 + i), sync: true, direct: true }));
    const before = io.stats();
    const results = await io.batchWrite(ops);
    results.forEach((r, i) => expect(r).toEqual({ ok: true, bytes: sizes[i] }));
    expect(io.stats().directFallbacks - before.directFallbacks).toBe(2); // the 10-byte file never tries O_DIRECT
    expect(io.stats().directWrites - before.directWrites).toBe(0);
    for (const op of ops) expect(fs.readFileSync(op.path).equals(op.data)).toBe(true);
  });

  test('errors stay per op: a missing directory fails its own write only', async () => {
    const good = path.join(disk, 'good');
    const bad = path.join(disk, 'no-such-dir', 'x');
    const [a, b] = await io.batchWrite([
      { path: good, data: pattern(1 << 20, 5), direct: true },
      { path: bad, data: pattern(1 << 20, 6), direct: true },
    ]);
    expect(a?.ok).toBe(true);
    expect(b?.ok).toBe(false);
    if (b && !b.ok) expect(b.error).toMatchObject({ category: 'filesystem', context: { file: bad } });
  });

  test('Property: any size, sync or not, direct or not, round-trips byte for byte (100 runs)', async () => {
    const dir = diskDirect ? disk : fs.mkdtempSync(path.join(os.tmpdir(), 'forge-direct-prop-'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ size: fc.oneof(fc.nat(3 * DIRECT_ALIGN), fc.integer({ min: 0, max: 600_000 })), sync: fc.boolean(), direct: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        async (specs) => {
          const ops = specs.map((s, i) => ({ path: path.join(dir, `p${n++}-${i}`), data: pattern(s.size, n * 31 + i), sync: s.sync, direct: s.direct }));
          const results = await io.batchWrite(ops);
          results.forEach((r, i) => expect(r).toEqual({ ok: true, bytes: specs[i]!.size }));
          for (const op of ops) {
            expect(fs.readFileSync(op.path).equals(op.data)).toBe(true);
            fs.rmSync(op.path);
          }
        },
      ),
      { numRuns: 100 },
    );
    if (dir !== disk) removeDir(dir);
  });

  test('the fallback backend takes the hint and writes buffered', async () => {
    const fb = createFallbackBackend({});
    try {
      const p = path.join(disk, 'fallback');
      const data = pattern((1 << 20) + 1, 9);
      const [r] = await fb.batchWrite([{ path: p, data, direct: true, sync: true }]);
      expect(r).toEqual({ ok: true, bytes: data.length });
      expect(fs.readFileSync(p).equals(data)).toBe(true);
    } finally {
      await fb.close();
    }
  });
});
