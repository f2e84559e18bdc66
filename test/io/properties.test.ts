/**
 * Design Properties 1–4, 12 and 13 for platform I/O, run for real against the
 * io_uring backend (kernel ring, this machine) and the node:fs fallback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPlatformIO, MIN_IO_URING_KERNEL, type ProbeOverrides } from '../../host/node/io/select.js';
import { ResourceManager } from '../../host/node/base/resources.js';
import type { PlatformIO, ReadResult } from '../../host/node/base/platform-io.js';
import { BACKENDS, removeDir, tempDir } from './helpers.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

const RUNS = { numRuns: 100 };
let dir: string;
let runNo = 0;
/** A fresh directory per generated case. */
const caseDir = (): string => {
  const d = path.join(dir, `c${runNo++}`);
  fs.mkdirSync(d);
  return d;
};

beforeAll(() => {
  if (process.platform !== 'linux') return;
  dir = tempDir('props');
});
afterAll(() => {
  if (process.platform === 'linux') removeDir(dir);
});

const fileName = fc.stringMatching(/^[a-z0-9_-]{1,16}$/);
/** Mostly small contents, sometimes empty, sometimes past a 16-byte or the default 32 KiB size hint. */
const content = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024 - 2, max: 40_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)) },
);
// fsync is slow on a shared disk: about one op in eight asks for it.
const sync = fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const files = fc.uniqueArray(fc.record({ name: fileName, data: content, sync }), { selector: (f) => f.name, minLength: 1, maxLength: 8 });

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** A comparable summary of a read result: bytes, or the error's category and code. */
function summary(r: ReadResult): string {
  return r.ok ? `ok:${Buffer.from(r.data).toString('base64')}` : `err:${r.error.category}:${String(r.error.context.code)}`;
}

linuxOnly('Property 1: platform detection', () => {
  // The model: io_uring exactly when Linux, kernel >= MIN, io_uring_disabled = 0, koffi loads and
  // io_uring_setup succeeds; otherwise the fallback, with the matching rejection code.
  const probe = fc.record(
    {
      kernelRelease: fc.constantFrom('4.19.0', '5.10.0-28-amd64', '5.14.21', '5.15.0', '6.1.0-18-amd64', os.release()),
      ioUringDisabled: fc.constantFrom(0, 1, 2),
      setupErrno: fc.constantFrom(1, 38, 12),
      koffiMissing: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  test('createPlatformIO picks the backend the probes allow and says why', async () => {
    await fc.assert(
      fc.asyncProperty(probe, async (p: ProbeOverrides) => {
        const io = await createPlatformIO({ probe: p, maxHandles: 32 });
        try {
          const release = p.kernelRelease ?? os.release();
          const [maj, min] = release.split('.').map(Number) as [number, number];
          const oldKernel = maj < MIN_IO_URING_KERNEL[0] || (maj === MIN_IO_URING_KERNEL[0] && min < MIN_IO_URING_KERNEL[1]);
          const disabled = (p.ioUringDisabled ?? 0) !== 0;
          const expectUring = !oldKernel && !disabled && !p.koffiMissing && p.setupErrno === undefined;
          expect(io.backend).toBe(expectUring ? 'io_uring' : 'fallback');
          expect(io.selection.chosen).toBe(io.backend);
          const rej = io.selection.rejected.find((r) => r.backend === 'io_uring');
          if (expectUring) expect(rej).toBeUndefined();
          else {
            const code = oldKernel
              ? 'kernel-too-old'
              : disabled
                ? 'io_uring-disabled'
                : p.koffiMissing
                  ? 'koffi-missing'
                  : p.setupErrno === 1
                    ? 'setup-EPERM'
                    : p.setupErrno === 38
                      ? 'setup-ENOSYS'
                      : 'setup-ENOMEM';
            expect(rej?.code).toBe(code);
            expect(rej?.reason.length).toBeGreaterThan(10);
          }
          // On Linux IOCP and kqueue are always rejected as "not this platform".
          expect(
            io.selection.rejected
              .filter((r) => r.code === 'not-platform')
              .map((r) => r.backend)
              .sort(),
          ).toEqual(['iocp', 'kqueue']);
        } finally {
          await io.close();
        }
      }),
      RUNS,
    );
  });
});

linuxOnly('Property 2: fallback guarantee', () => {
  const unavailable = fc.constantFrom<ProbeOverrides>(
    { ioUringDisabled: 2 },
    { ioUringDisabled: 1 },
    { setupErrno: 1 },
    { setupErrno: 38 },
    { koffiMissing: true },
    { kernelRelease: '5.4.0' },
  );
  test('with io_uring unavailable every operation still succeeds', async () => {
    await fc.assert(
      fc.asyncProperty(unavailable, files, fc.nat(400), async (probe, fs0, off) => {
        const io = await createPlatformIO({ probe, maxHandles: 8 });
        try {
          expect(io.backend).toBe('fallback');
          const d = caseDir();
          const ops = fs0.map((f) => ({ path: path.join(d, f.name), data: f.data, sync: f.sync }));
          const w = await io.batchWrite(ops);
          expect(w.map((r) => r.ok && r.bytes)).toEqual(ops.map((o) => o.data.length));
          const r = await io.batchRead(ops.map((o) => o.path));
          r.forEach((x, i) => expect(x.ok && same(x.data, ops[i]!.data)).toBe(true));
          const p = path.join(d, 'single');
          await io.writeAll(p, fs0[0]!.data, { sync: fs0[0]!.sync });
          expect(same(await io.readAll(p), fs0[0]!.data)).toBe(true);
          const n = await io.write(p, Buffer.from('xyz'), off);
          expect(n).toBe(3);
          expect(Buffer.from(await io.read(p, off, 3)).toString()).toBe('xyz');
        } finally {
          await io.close();
        }
      }),
      RUNS,
    );
  });
});

linuxOnly('Property 3: backends equivalent on the same data', () => {
  let ios: PlatformIO[];
  beforeAll(() => {
    ios = BACKENDS.map((b) => b.make());
  });
  afterAll(async () => {
    await Promise.all(ios.map((io) => io.close()));
  });
  test('batchRead, read and readAll give the same bytes and the same error categories', async () => {
    await fc.assert(
      fc.asyncProperty(files, fc.array(fc.nat(20), { maxLength: 4 }), fc.nat(500), fc.nat(500), async (fs0, missing, off, len) => {
        const d = caseDir();
        for (const f of fs0) fs.writeFileSync(path.join(d, f.name), f.data);
        fs.mkdirSync(path.join(d, 'a-directory'));
        const paths = [...fs0.map((f) => path.join(d, f.name)), ...missing.map((m) => path.join(d, `missing-${m}`)), path.join(d, 'a-directory')];
        const results = await Promise.all(ios.map((io) => io.batchRead(paths)));
        const ref = results[0]!.map(summary);
        for (const r of results.slice(1)) expect(r.map(summary)).toEqual(ref);
        // and the reference is what the file system holds
        fs0.forEach((f, i) => expect(ref[i]).toBe(`ok:${Buffer.from(f.data).toString('base64')}`));
        expect(ref[paths.length - 1]).toBe('err:filesystem:EISDIR');
        const p = paths[0]!;
        const ranges = await Promise.all(ios.map((io) => io.read(p, off, len)));
        const expected = Buffer.from(fs0[0]!.data).subarray(off, off + len);
        for (const x of ranges) expect(same(x, expected)).toBe(true);
        const whole = await Promise.all(ios.map((io) => io.readAll(p)));
        for (const x of whole) expect(same(x, fs0[0]!.data)).toBe(true);
      }),
      RUNS,
    );
  });
});

linuxOnly('Property 4: batch write then batch read round-trips', () => {
  for (const b of BACKENDS) {
    test(b.name, async () => {
      const io = b.make();
      try {
        await fc.assert(
          fc.asyncProperty(files, async (fs0) => {
            const d = caseDir();
            const ops = fs0.map((f) => ({ path: path.join(d, f.name), data: f.data, sync: f.sync }));
            // Write twice: the second batch must fully replace the first (O_TRUNC).
            await io.batchWrite(ops.map((o) => ({ ...o, data: new Uint8Array(o.data.length + 7).fill(9) })));
            const w = await io.batchWrite(ops);
            expect(w.every((x) => x.ok)).toBe(true);
            const r = await io.batchRead(ops.map((o) => o.path));
            r.forEach((x, i) => {
              expect(x.ok).toBe(true);
              if (x.ok) expect(same(x.data, ops[i]!.data)).toBe(true);
            });
            ops.forEach((o) => expect(same(fs.readFileSync(o.path), o.data)).toBe(true));
          }),
          RUNS,
        );
      } finally {
        await io.close();
      }
    });
  }
});

linuxOnly('Property 12: never more handles than the limit', () => {
  for (const b of BACKENDS) {
    test(b.name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), async (limit, n, writes) => {
          const rm = new ResourceManager({ maxHandles: limit });
          const io = b.make(rm);
          try {
            const d = caseDir();
            const paths = Array.from({ length: n }, (_, i) => path.join(d, `f${i}`));
            if (writes) await io.batchWrite(paths.map((p, i) => ({ path: p, data: Buffer.alloc(i * 3, i) })));
            else for (const p of paths) fs.writeFileSync(p, p);
            const r = await io.batchRead(paths);
            expect(r.every((x) => x.ok)).toBe(true);
            const s = rm.stats();
            expect(s.peak).toBeLessThanOrEqual(limit);
            expect(s.peak).toBeGreaterThanOrEqual(1);
            expect(s.inUse).toBe(0);
          } finally {
            await io.close();
            await rm.shutdown(0);
          }
        }),
        RUNS,
      );
    });
  }
});

linuxOnly('Property 13: queued operations complete', () => {
  for (const b of BACKENDS) {
    test(b.name, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.constantFrom('read', 'write', 'batch'), { minLength: 2, maxLength: 24 }),
          async (limit, kinds) => {
            const rm = new ResourceManager({ maxHandles: limit });
            // Another holder keeps the budget exhausted at the start, so operations really queue.
            const blocker = await rm.acquire(limit);
            const io = b.make(rm);
            try {
              const d = caseDir();
              const p = (i: number): string => path.join(d, `q${i}`);
              kinds.forEach((_, i) => fs.writeFileSync(p(i), `old${i}`));
              const ops = kinds.map((k, i): Promise<string> => {
                if (k === 'read') return io.readAll(p(i)).then((x) => Buffer.from(x).toString());
                if (k === 'write') return io.writeAll(p(i), Buffer.from(`new${i}`)).then(() => fs.readFileSync(p(i), 'utf8'));
                return io.batchRead([p(i), p(i)]).then((r) => r.map((x) => (x.ok ? Buffer.from(x.data).toString() : 'ERR')).join('|'));
              });
              await new Promise((r) => setTimeout(r, 1));
              expect(rm.stats().queued).toBeGreaterThan(0);
              blocker.release();
              const out = await Promise.all(ops);
              kinds.forEach((k, i) => expect(out[i]).toBe(k === 'read' ? `old${i}` : k === 'write' ? `new${i}` : `old${i}|old${i}`));
              expect(rm.stats().inUse).toBe(0);
            } finally {
              await io.close();
              await rm.shutdown(0);
            }
          },
        ),
        RUNS,
      );
    });
  }
});
