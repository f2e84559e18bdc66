// The IOCP backend's tests, as plain ESM over the compiled dist/ so that a
// Windows node.exe (under Wine here, natively on a Windows CI runner) can run
// them without vitest: test/win32/run-under-wine.mjs runs them standalone and
// test/win32/iocp.test.ts runs them under vitest on Windows.
//
// Wine's recursive ReadDirectoryChangesW differs from Windows for nested
// creates and for directories moved in or renamed, so watch tests wait with
// timeouts and check that the expected changes are present, never exact sequences.
import { createHash as nodeHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { collectUntil, ioChecks, watchChecks } from '../degradation/fallback-checks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../dist');
const distUrl = (rel) => pathToFileURL(path.join(dist, rel)).href;

const RUNS = Number(process.env.FORGE_WIN_RUNS ?? 100);

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `forge-iocp-${tag}-`));
}

async function backend(options = {}) {
  const { createIocpBackend } = await import(distUrl('host/native/win32/iocp-backend.js'));
  return createIocpBackend(options);
}

const has = (seen, kind, p, oldPath) => seen.some((c) => c.kind === kind && c.path === p && (oldPath === undefined || c.oldPath === oldPath));
const fmt = (seen) => seen.map((c) => `${c.kind}:${c.oldPath ? c.oldPath + '->' : ''}${c.path}`).join(', ');

const fileName = fc.stringMatching(/^[a-z0-9_]{1,12}$/);
const content = fc.uint8Array({ minLength: 0, maxLength: 8 * 1024 });

export const cases = [
  {
    name: 'Property 1: platform detection: on win32 the IOCP backend loads and reports backend "iocp"',
    async fn() {
      assert(process.platform === 'win32', `expected win32, got ${process.platform}`);
      const io = await backend();
      try {
        assert(io.backend === 'iocp', `backend is ${io.backend}`);
      } finally {
        await io.close();
      }
      // The selector (IO's) picks IOCP when present; probed only if it is built.
      const sel = path.join(dist, 'host/node/io/select.js');
      if (fs.existsSync(sel)) {
        const { createPlatformIO } = await import(pathToFileURL(sel).href);
        const chosen = await createPlatformIO();
        try {
          assert(chosen.backend === 'iocp', `createPlatformIO() chose ${chosen.backend} on win32`);
        } finally {
          await chosen.close();
        }
      }
    },
  },
  {
    name: 'Property 4: batchWrite then batchRead round-trips (IOCP, >= 100 runs)',
    async fn() {
      const dir = tmpDir('p4');
      const io = await backend({ maxHandles: 16 });
      try {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(fc.record({ name: fileName, data: content, sync: fc.boolean() }), { selector: (r) => r.name, minLength: 1, maxLength: 5 }),
            async (files) => {
              const sub = path.join(dir, String(run++));
              fs.mkdirSync(sub);
              const ops = files.map((f) => ({ path: path.join(sub, f.name), data: f.data, sync: f.sync }));
              const w = await io.batchWrite(ops);
              for (const [i, r] of w.entries()) if (!r.ok || r.bytes !== files[i].data.length) return false;
              const r = await io.batchRead(ops.map((o) => o.path));
              return r.every((x, i) => x.ok && Buffer.compare(Buffer.from(x.data), Buffer.from(files[i].data)) === 0);
            },
          ),
          { numRuns: RUNS },
        );
      } finally {
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'Property 3: IOCP reads equal node:fs reads of the same files, including missing ones (>= 100 runs)',
    async fn() {
      const dir = tmpDir('p3');
      const io = await backend();
      try {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(fc.record({ name: fileName, data: fc.option(content, { nil: undefined }) }), {
              selector: (r) => r.name,
              minLength: 1,
              maxLength: 5,
            }),
            async (files) => {
              const sub = path.join(dir, String(run++));
              fs.mkdirSync(sub);
              // Written by node:fs, so IOCP reads data it did not write itself; undefined = missing file.
              for (const f of files) if (f.data) fs.writeFileSync(path.join(sub, f.name), f.data);
              const paths = files.map((f) => path.join(sub, f.name));
              const got = await io.batchRead(paths);
              return got.every((g, i) => {
                let expected;
                try {
                  expected = fs.readFileSync(paths[i]);
                } catch (e) {
                  return !g.ok && g.error.name === 'ForgeError' && g.error.category === 'filesystem' && g.error.context.code === e.code;
                }
                return g.ok && Buffer.compare(Buffer.from(g.data), expected) === 0;
              });
            },
          ),
          { numRuns: RUNS },
        );
      } finally {
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'Property 2: with FORGE_IO_BACKEND=fallback on Windows, the fallback is chosen and I/O and watching still work (>= 100 runs)',
    async fn() {
      const sel = path.join(dist, 'host/node/io/select.js');
      assert(fs.existsSync(sel), 'dist/host/node/io/select.js is built');
      const { createPlatformIO } = await import(pathToFileURL(sel).href);
      const saved = process.env.FORGE_IO_BACKEND;
      process.env.FORGE_IO_BACKEND = 'fallback';
      let io;
      try {
        io = await createPlatformIO();
      } finally {
        if (saved === undefined) delete process.env.FORGE_IO_BACKEND;
        else process.env.FORGE_IO_BACKEND = saved;
      }
      try {
        assert(io.backend === 'fallback', `chose ${io.backend}`);
        assert(
          io.selection.rejected.some((r) => r.backend === 'iocp' && r.code === 'not-forced'),
          'the report says why IOCP was not used',
        );
        await ioChecks(io, RUNS, 3); // few files per run: file creation is slow under Wine
        await watchChecks(io);
      } finally {
        await io.close();
      }
    },
  },
  {
    name: 'read/write at offsets match a byte-array model (>= 100 runs)',
    async fn() {
      const dir = tmpDir('off');
      const io = await backend();
      try {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ offset: fc.nat(70000), data: fc.uint8Array({ minLength: 1, maxLength: 4096 }) }), { minLength: 1, maxLength: 5 }),
            fc.nat(80000),
            fc.nat(10000),
            async (writes, readOff, readLen) => {
              const p = path.join(dir, `f${run++}`);
              let model = Buffer.alloc(0);
              for (const w of writes) {
                const n = await io.write(p, w.data, w.offset);
                if (n !== w.data.length) return false;
                const end = w.offset + w.data.length;
                if (end > model.length) model = Buffer.concat([model, Buffer.alloc(end - model.length)]);
                Buffer.from(w.data).copy(model, w.offset);
              }
              const all = await io.readAll(p);
              const part = await io.read(p, readOff, readLen);
              return (
                Buffer.compare(Buffer.from(all), model) === 0 &&
                Buffer.compare(Buffer.from(part), model.subarray(Math.min(readOff, model.length), Math.min(readOff + readLen, model.length))) === 0 &&
                Buffer.compare(fs.readFileSync(p), model) === 0
              );
            },
          ),
          { numRuns: RUNS },
        );
      } finally {
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'a 3 MiB file round-trips; empty files and a missing file are per-slot results',
    async fn() {
      const dir = tmpDir('big');
      const io = await backend();
      try {
        const big = Buffer.alloc(3 * 1024 * 1024 + 123);
        for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
        const w = await io.batchWrite([
          { path: path.join(dir, 'big.bin'), data: big, sync: true },
          { path: path.join(dir, 'empty.bin'), data: new Uint8Array(0) },
          { path: path.join(dir, 'no-such-dir', 'x.bin'), data: new Uint8Array(1) },
        ]);
        assert(w[0].ok && w[1].ok, 'big and empty writes succeed');
        assert(
          !w[2].ok && w[2].error.context.code === 'ENOENT',
          `write into a missing dir is ENOENT in its slot, got ${w[2].ok ? 'ok' : w[2].error.context.code}`,
        );
        const r = await io.batchRead([path.join(dir, 'big.bin'), path.join(dir, 'empty.bin'), path.join(dir, 'missing.bin')]);
        assert(r[0].ok && Buffer.compare(Buffer.from(r[0].data), big) === 0, 'big file content');
        assert(r[1].ok && r[1].data.length === 0, 'empty file');
        assert(
          !r[2].ok && r[2].error.category === 'filesystem' && r[2].error.context.code === 'ENOENT' && r[2].error.context.backend === 'iocp',
          'missing file is ENOENT',
        );
        assert(createHash(fs.readFileSync(path.join(dir, 'big.bin'))) === createHash(big), 'node:fs sees the same bytes');
      } finally {
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'watch: created, modified, renamed and removed files are reported (root and a pre-existing subdirectory)',
    async fn() {
      const dir = tmpDir('watch');
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'sub', 'old.txt'), 'o');
      const io = await backend();
      const w = io.watch(dir, { debounceMs: 50 });
      try {
        await w.ready;
        let ticked = false;
        setTimeout(() => (ticked = true), 20);
        await new Promise((r) => setTimeout(r, 60));
        assert(ticked, 'timers fire while a ReadDirectoryChangesW is pending (the reaper does not block the loop)');
        const J = (...p) => path.join(dir, ...p);
        fs.writeFileSync(J('a.txt'), 'hello');
        let seen = await collectUntil(w, (s) => has(s, 'created', 'a.txt'));
        assert(has(seen, 'created', 'a.txt'), `created a.txt; got ${fmt(seen)}`);
        fs.appendFileSync(J('a.txt'), ' world');
        seen = await collectUntil(w, (s) => has(s, 'modified', 'a.txt'));
        assert(has(seen, 'modified', 'a.txt'), `modified a.txt; got ${fmt(seen)}`);
        fs.renameSync(J('a.txt'), J('b.txt'));
        seen = await collectUntil(w, (s) => has(s, 'renamed', 'b.txt', 'a.txt'));
        assert(has(seen, 'renamed', 'b.txt', 'a.txt'), `renamed a.txt -> b.txt; got ${fmt(seen)}`);
        fs.unlinkSync(J('b.txt'));
        seen = await collectUntil(w, (s) => has(s, 'removed', 'b.txt'));
        assert(has(seen, 'removed', 'b.txt'), `removed b.txt; got ${fmt(seen)}`);
        fs.writeFileSync(J('sub', 'new.txt'), 'n');
        fs.appendFileSync(J('sub', 'old.txt'), 'more');
        seen = await collectUntil(w, (s) => has(s, 'created', 'sub/new.txt') && has(s, 'modified', 'sub/old.txt'));
        assert(has(seen, 'created', 'sub/new.txt') && has(seen, 'modified', 'sub/old.txt'), `subdir create+modify; got ${fmt(seen)}`);
        fs.rmSync(J('sub', 'old.txt'));
        seen = await collectUntil(w, (s) => has(s, 'removed', 'sub/old.txt'));
        assert(has(seen, 'removed', 'sub/old.txt'), `removed sub/old.txt; got ${fmt(seen)}`);
        const st = w.stats();
        assert(st.eventsSeen > 0 && st.directoriesWatched >= 2 && st.partial === false, `stats ${JSON.stringify(st)}`);
      } finally {
        await w.close();
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'watch: files in a directory tree created at once (mkdir -p a/b/c + file) are all reported',
    async fn() {
      const dir = tmpDir('nested');
      const io = await backend();
      const w = io.watch(dir, { debounceMs: 50 });
      try {
        await w.ready;
        fs.mkdirSync(path.join(dir, 'a', 'b', 'c'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'a', 'b', 'c', 'f.txt'), 'x');
        const want = ['a', 'a/b', 'a/b/c', 'a/b/c/f.txt'];
        const seen = await collectUntil(w, (s) => want.every((p) => has(s, 'created', p)));
        assert(
          want.every((p) => has(seen, 'created', p)),
          `expected created ${want.join(', ')}; got ${fmt(seen)}`,
        );
      } finally {
        await w.close();
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'watch: a burst larger than the record buffer is reported as overflow, and the rescan reports every file',
    async fn() {
      const dir = tmpDir('overflow');
      fs.writeFileSync(path.join(dir, 'before.txt'), 'b');
      const io = await backend({ rdcwBufferBytes: 64 });
      const w = io.watch(dir, { debounceMs: 50 });
      try {
        await w.ready;
        const names = Array.from({ length: 40 }, (_, i) => `burst_${i}_with_a_long_enough_name.txt`);
        for (const n of names) fs.writeFileSync(path.join(dir, n), 'x');
        fs.rmSync(path.join(dir, 'before.txt'));
        const seen = await collectUntil(
          w,
          (s) => s.some((c) => c.kind === 'overflow') && names.every((n) => has(s, 'created', n)) && has(s, 'removed', 'before.txt'),
        );
        assert(
          seen.some((c) => c.kind === 'overflow'),
          `an overflow change; got ${fmt(seen).slice(0, 300)}`,
        );
        const missing = names.filter((n) => !has(seen, 'created', n));
        assert(missing.length === 0, `every created file reported (by records or the rescan); missing ${missing.join(', ')}`);
        assert(has(seen, 'removed', 'before.txt'), 'the removal is reported');
        assert(w.stats().overflows >= 1, `stats().overflows ${w.stats().overflows}`);
      } finally {
        await w.close();
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'watch: close() cancels the pending request and the iterator ends; closing twice is safe',
    async fn() {
      const dir = tmpDir('close');
      const io = await backend();
      const w = io.watch(dir, { debounceMs: 0 });
      await w.ready;
      const it = w[Symbol.asyncIterator]();
      const next = it.next();
      await w.close();
      await w.close();
      const r = await Promise.race([next, new Promise((res) => setTimeout(() => res('hang'), 3000))]);
      assert(r !== 'hang' && r.done === true, 'iterator ends after close()');
      await io.close();
      await io.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'the standalone watch() chooses ReadDirectoryChangesW, as io.watch() does, and reports changes through it',
    async fn() {
      const { watch, watcherKindFor } = await import(distUrl('host/node/io/watch.js'));
      assert(watcherKindFor() === 'ReadDirectoryChangesW', `watcherKindFor() = ${watcherKindFor()}`);
      const dir = tmpDir('standalone');
      const w = watch(dir, { debounceMs: 50 });
      try {
        await w.ready;
        const st = w.stats();
        assert(st.watcher === 'ReadDirectoryChangesW', `standalone watch() runs on ${st.watcher}`);
        fs.writeFileSync(path.join(dir, 'x.txt'), 'x');
        let seen = await collectUntil(w, (s) => has(s, 'created', 'x.txt'));
        assert(has(seen, 'created', 'x.txt'), `created x.txt; got ${fmt(seen)}`);
        fs.unlinkSync(path.join(dir, 'x.txt'));
        seen = await collectUntil(w, (s) => has(s, 'removed', 'x.txt'));
        assert(has(seen, 'removed', 'x.txt'), `removed x.txt; got ${fmt(seen)}`);
        assert(w.stats().eventsSeen > 0, 'events were seen by the RDCW source');
      } finally {
        await w.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'safe batch reads: a regular file with its identity; a directory is ENOTREG; a missing file ENOENT',
    async fn() {
      const dir = tmpDir('safe');
      const io = await backend();
      try {
        const f = path.join(dir, 'f.bin');
        const data = Buffer.alloc(70_000, 3);
        fs.writeFileSync(f, data);
        const [a, d, m] = await io.batchRead([f, dir, path.join(dir, 'missing')], { safe: true });
        assert(a.ok && Buffer.from(a.data).equals(data), 'safe read returns the bytes');
        assert(
          a.identity.size === 70000n && (a.identity.mode & 0o170000) === 0o100000,
          `identity ${JSON.stringify(a.identity, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
        assert(!d.ok && d.error.context.code === 'ENOTREG', `directory: ${d.ok ? 'ok' : d.error.message}`);
        assert(!m.ok && m.error.context.code === 'ENOENT', `missing: ${m.ok ? 'ok' : m.error.message}`);
      } finally {
        await io.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'bad input is a validation ForgeError, watching a missing root a filesystem ForgeError',
    async fn() {
      const io = await backend();
      try {
        for (const bad of [() => io.read('', 0, 1), () => io.read('x', -1, 1), () => io.write('x', 'nope', 0)]) {
          let err;
          try {
            await bad();
          } catch (e) {
            err = e;
          }
          assert(err && err.name === 'ForgeError' && err.category === 'validation', `expected validation ForgeError, got ${err && err.message}`);
        }
        const w = io.watch(path.join(os.tmpdir(), 'forge-iocp-does-not-exist-' + process.pid));
        let err;
        try {
          await w.ready;
        } catch (e) {
          err = e;
        }
        assert(err && err.name === 'ForgeError' && err.category === 'filesystem', `missing root: ${err && err.message}`);
        await w.close();
      } finally {
        await io.close();
      }
    },
  },
];

function createHash(buf) {
  return nodeHash('sha256').update(buf).digest('hex');
}
