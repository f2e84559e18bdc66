// Property 2 (fallback guarantee) checks, shared by the in-process degradation
// tests (vitest, TypeScript sources) and the koffi-unavailable child process
// (compiled dist/): they take the PlatformIO and the BlobStore class as
// arguments and import nothing from Forge themselves.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';

const name = fc.stringMatching(/^[a-z0-9_]{1,12}$/);

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** batchWrite → batchRead round-trips, offsets, per-slot errors (>= 100 runs of up to `maxFiles` files). */
export async function ioChecks(io, runs = 100, maxFiles = 8) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-degr-io-'));
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name, data: fc.uint8Array({ maxLength: 8192 }), sync: fc.boolean() }), {
          selector: (r) => r.name,
          minLength: 1,
          maxLength: maxFiles,
        }),
        async (files) => {
          const sub = path.join(dir, String(run++));
          fs.mkdirSync(sub);
          const ops = files.map((f) => ({ path: path.join(sub, f.name), data: f.data, sync: f.sync }));
          const w = await io.batchWrite(ops);
          if (!w.every((r, i) => r.ok && r.bytes === files[i].data.length)) return false;
          const missing = path.join(sub, 'missing-file');
          const r = await io.batchRead([...ops.map((o) => o.path), missing]);
          const last = r[r.length - 1];
          return (
            r
              .slice(0, -1)
              .every(
                (x, i) => x.ok && Buffer.from(x.data).equals(Buffer.from(files[i].data)) && fs.readFileSync(ops[i].path).equals(Buffer.from(files[i].data)),
              ) &&
            !last.ok &&
            last.error.name === 'ForgeError' &&
            last.error.context.code === 'ENOENT'
          );
        },
      ),
      { numRuns: runs },
    );
    const p = path.join(dir, 'offsets');
    await io.write(p, new Uint8Array([1, 2, 3]), 5);
    const got = Buffer.from(await io.readAll(p));
    check(got.equals(Buffer.from([0, 0, 0, 0, 0, 1, 2, 3])), `write at offset: got ${got.toString('hex')}`);
    check(Buffer.from(await io.read(p, 4, 3)).equals(Buffer.from([0, 1, 2])), 'read at offset');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Collects a watch's batches until `done(seen)` holds or `ms` pass (watch tests wait with timeouts, never on exact sequences). */
export async function collectUntil(w, done, ms = 8000) {
  const seen = [];
  const it = w[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (!done(seen) && Date.now() < deadline) {
    const r = await Promise.race([it.next(), new Promise((res) => setTimeout(() => res('t'), Math.max(1, deadline - Date.now())))]);
    if (r === 't' || r.done) break;
    seen.push(...r.value);
  }
  return seen;
}

/** io.watch reports created, modified, renamed (or removed+created) and removed files. */
export async function watchChecks(io) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-degr-w-'));
  const w = io.watch(dir, { debounceMs: 30 });
  const has = (s, kind, p) => s.some((c) => c.kind === kind && c.path === p);
  const fmt = (s) => s.map((c) => `${c.kind}:${c.oldPath ? c.oldPath + '->' : ''}${c.path}`).join(', ');
  try {
    await w.ready;
    const J = (...p) => path.join(dir, ...p);
    fs.writeFileSync(J('a.txt'), 'one');
    let s = await collectUntil(w, (x) => has(x, 'created', 'a.txt'));
    check(has(s, 'created', 'a.txt'), `created: ${fmt(s)}`);
    fs.appendFileSync(J('a.txt'), 'two');
    s = await collectUntil(w, (x) => has(x, 'modified', 'a.txt'));
    check(has(s, 'modified', 'a.txt'), `modified: ${fmt(s)}`);
    fs.renameSync(J('a.txt'), J('b.txt'));
    const renamed = (x) => x.some((c) => c.kind === 'renamed' && c.path === 'b.txt') || (has(x, 'removed', 'a.txt') && has(x, 'created', 'b.txt'));
    s = await collectUntil(w, renamed);
    check(renamed(s), `renamed: ${fmt(s)}`);
    fs.unlinkSync(J('b.txt'));
    s = await collectUntil(w, (x) => has(x, 'removed', 'b.txt'));
    check(has(s, 'removed', 'b.txt'), `removed: ${fmt(s)}`);
  } finally {
    await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** put → get round-trips through a store using `io`; names are the SHA-256 of the content (>= 100 runs). */
export async function storeChecks(BlobStore, io, runs = 100) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-degr-s-'));
  const store = await BlobStore.open(dir, { io, sync: false, workers: 0 });
  try {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 20000 }), async (data) => {
        const { hash } = await store.put(data);
        const back = await store.get(hash);
        return hash === createHash('sha256').update(data).digest('hex') && Buffer.from(back).equals(Buffer.from(data));
      }),
      { numRuns: runs },
    );
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
