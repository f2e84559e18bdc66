// The kqueue backend's file I/O (pread/pwrite/fsync via koffi async calls)
// runs on Linux against glibc with Linux open flags: the same code path as on
// macOS except for the library name and flag values (kqueue-lib.ts).
// Watching needs a kqueue library: on macOS libSystem; on Linux only when
// FORGE_KQUEUE_LIB names a libkqueue build (not packaged by Debian), else skipped.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKqueueBackend } from '../../host/native/darwin/kqueue-backend.js';
import { kqueueLibSpec } from '../../host/native/darwin/kqueue-lib.js';
import type { Change, PlatformIO, WatchHandle } from '../../host/node/base/platform-io.js';
import { ResourceManager } from '../../host/node/base/resources.js';
import { collectUntil as collectAny } from '../degradation/fallback-checks.mjs';

const collectUntil = collectAny as (w: WatchHandle, done: (s: Change[]) => boolean, ms?: number) => Promise<Change[]>;

const onLinux = process.platform === 'linux';
const spec = process.platform === 'darwin' ? kqueueLibSpec() : kqueueLibSpec('linux');
const canWatch = spec.kqueue !== undefined;

let dir: string;
let io: PlatformIO;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-kq-'));
  io = await createKqueueBackend({ lib: spec, maxHandles: 32 });
});
afterAll(async () => {
  await io?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const name = fc.stringMatching(/^[a-z0-9_]{1,12}$/);
const content = fc.uint8Array({ minLength: 0, maxLength: 32 * 1024 });

describe.runIf(onLinux || process.platform === 'darwin')('kqueue backend file I/O (pread/pwrite through koffi async calls)', () => {
  it('reports backend "kqueue" and refuses to start off macOS without an explicit library', async () => {
    expect(io.backend).toBe('kqueue');
    if (process.platform !== 'darwin') {
      await expect(createKqueueBackend()).rejects.toMatchObject({ name: 'ForgeError', category: 'dependency' });
    }
  });

  it('Property 4: batchWrite then batchRead round-trips on the kqueue backend', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name, data: content, sync: fc.boolean() }), { selector: (r) => r.name, minLength: 1, maxLength: 8 }),
        async (files) => {
          const sub = path.join(dir, `p4-${run++}`);
          fs.mkdirSync(sub);
          const ops = files.map((f) => ({ path: path.join(sub, f.name), data: f.data, sync: f.sync }));
          const w = await io.batchWrite(ops);
          expect(w.every((r, i) => r.ok && r.bytes === files[i]!.data.length)).toBe(true);
          const r = await io.batchRead(ops.map((o) => o.path));
          r.forEach((x, i) => {
            expect(x.ok).toBe(true);
            if (x.ok) expect(Buffer.from(x.data).equals(Buffer.from(files[i]!.data))).toBe(true);
          });
          // node:fs sees the same bytes (an independent reader).
          ops.forEach((o) => expect(fs.readFileSync(o.path).equals(Buffer.from(o.data))).toBe(true));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('Property 3: kqueue-backend reads equal node:fs reads, missing files are ENOENT in their slot', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name, data: fc.option(content, { nil: undefined }) }), { selector: (r) => r.name, minLength: 1, maxLength: 8 }),
        async (files) => {
          const sub = path.join(dir, `p3-${run++}`);
          fs.mkdirSync(sub);
          for (const f of files) if (f.data) fs.writeFileSync(path.join(sub, f.name), f.data);
          const paths = files.map((f) => path.join(sub, f.name));
          const got = await io.batchRead(paths);
          got.forEach((g, i) => {
            if (files[i]!.data) {
              expect(g.ok && Buffer.from(g.data).equals(fs.readFileSync(paths[i]!))).toBe(true);
            } else {
              expect(g.ok).toBe(false);
              if (!g.ok) expect([g.error.category, g.error.context.code, g.error.context.backend]).toEqual(['filesystem', 'ENOENT', 'kqueue']);
            }
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('read/write at offsets match a byte-array model (100 runs)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ offset: fc.nat(70000), data: fc.uint8Array({ minLength: 1, maxLength: 4096 }) }), { minLength: 1, maxLength: 5 }),
        fc.nat(80000),
        fc.nat(10000),
        async (writes, readOff, readLen) => {
          const p = path.join(dir, `off-${run++}`);
          let model = Buffer.alloc(0);
          for (const w of writes) {
            expect(await io.write(p, w.data, w.offset)).toBe(w.data.length);
            const end = w.offset + w.data.length;
            if (end > model.length) model = Buffer.concat([model, Buffer.alloc(end - model.length)]);
            Buffer.from(w.data).copy(model, w.offset);
          }
          expect(Buffer.from(await io.readAll(p)).equals(model)).toBe(true);
          const lo = Math.min(readOff, model.length);
          expect(Buffer.from(await io.read(p, readOff, readLen)).equals(model.subarray(lo, Math.min(readOff + readLen, model.length)))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('errors are ForgeErrors with the errno name: EISDIR for a directory, validation for bad arguments', async () => {
    const r = await io.batchRead([dir]);
    expect(r[0]!.ok).toBe(false);
    if (!r[0]!.ok) expect(r[0]!.error.context.code).toBe('EISDIR');
    await expect(io.read(path.join(dir, 'x'), -1, 1)).rejects.toMatchObject({ category: 'validation' });
    await expect(io.write('', new Uint8Array(1))).rejects.toMatchObject({ category: 'validation' });
  });

  it('never holds more handles than the budget (2,000 operations, limit 8)', async () => {
    const rm = new ResourceManager({ maxHandles: 8 });
    const small = await createKqueueBackend({ lib: spec, resources: rm, maxInFlight: 64 });
    try {
      const sub = path.join(dir, 'budget');
      fs.mkdirSync(sub);
      const ops = Array.from({ length: 1000 }, (_, i) => ({ path: path.join(sub, `f${i}`), data: new Uint8Array([i & 255, 1, 2]) }));
      const w = await small.batchWrite(ops);
      expect(w.every((x) => x.ok)).toBe(true);
      const r = await small.batchRead(ops.map((o) => o.path));
      expect(r.every((x, i) => x.ok && x.data[0] === (i & 255))).toBe(true);
      expect(rm.stats().peak).toBeLessThanOrEqual(8);
      expect(rm.stats().inUse).toBe(0);
    } finally {
      await small.close();
    }
  });
});

const has = (s: Change[], kind: string, p: string, oldPath?: string): boolean =>
  s.some((c) => c.kind === kind && c.path === p && (oldPath === undefined || c.oldPath === oldPath));

describe.skipIf(!canWatch)('kqueue watcher (needs macOS, or FORGE_KQUEUE_LIB=<libkqueue.so> on Linux)', () => {
  it('reports created, modified, renamed and removed files, nested creates, and a removed directory', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-kqw-'));
    fs.mkdirSync(path.join(root, 'sub'));
    fs.writeFileSync(path.join(root, 'sub', 'old.txt'), 'o');
    const w = io.watch(root, { debounceMs: 20 });
    try {
      await w.ready;
      const J = (...p: string[]): string => path.join(root, ...p);
      fs.writeFileSync(J('a.txt'), 'hello');
      let s = await collectUntil(w, (x) => has(x, 'created', 'a.txt'));
      expect(s.map((c) => `${c.kind}:${c.path}`)).toContain('created:a.txt');
      fs.appendFileSync(J('a.txt'), ' world');
      s = await collectUntil(w, (x) => has(x, 'modified', 'a.txt'));
      expect(has(s, 'modified', 'a.txt')).toBe(true);
      fs.renameSync(J('a.txt'), J('b.txt'));
      s = await collectUntil(w, (x) => has(x, 'renamed', 'b.txt', 'a.txt'));
      expect(has(s, 'renamed', 'b.txt', 'a.txt')).toBe(true);
      fs.unlinkSync(J('b.txt'));
      s = await collectUntil(w, (x) => has(x, 'removed', 'b.txt'));
      expect(has(s, 'removed', 'b.txt')).toBe(true);
      fs.mkdirSync(J('n', 'a', 'b'), { recursive: true });
      fs.writeFileSync(J('n', 'a', 'b', 'f.txt'), 'x');
      const want = ['n', 'n/a', 'n/a/b', 'n/a/b/f.txt'];
      s = await collectUntil(w, (x) => want.every((p) => has(x, 'created', p)));
      expect(want.filter((p) => !has(s, 'created', p))).toEqual([]);
      fs.appendFileSync(J('sub', 'old.txt'), 'more');
      s = await collectUntil(w, (x) => has(x, 'modified', 'sub/old.txt'));
      expect(has(s, 'modified', 'sub/old.txt')).toBe(true);
      fs.rmSync(J('sub'), { recursive: true });
      s = await collectUntil(w, (x) => has(x, 'removed', 'sub') && has(x, 'removed', 'sub/old.txt'));
      expect(has(s, 'removed', 'sub') && has(s, 'removed', 'sub/old.txt')).toBe(true);
      expect(w.stats(), JSON.stringify(w.stats())).toMatchObject({ partial: false });
    } finally {
      await w.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('beyond the handle budget, degrades to directory-level watching and says so in stats()', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-kqd-'));
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(root, `f${i}.txt`), 'x');
    const rm = new ResourceManager({ maxHandles: 16 });
    const small = await createKqueueBackend({ lib: spec, resources: rm });
    const w = small.watch(root, { debounceMs: 20 });
    try {
      await w.ready;
      const st = w.stats();
      expect(st.filesWatched).toBeLessThan(40);
      expect(st.directoriesWatched).toBe(1);
      expect(st.degradedReason).toMatch(/directory level/);
      expect(rm.stats().peak).toBeLessThanOrEqual(16);
      // Directory-level watching still sees new files.
      fs.writeFileSync(path.join(root, 'late.txt'), 'y');
      const s = await collectUntil(w, (x) => has(x, 'created', 'late.txt'));
      expect(has(s, 'created', 'late.txt')).toBe(true);
    } finally {
      await w.close();
      await small.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
    expect(rm.stats().inUse).toBe(0);
  });
});
