// Objects are created owner read-only (0400) at open, with no chmod per object on the io paths
// (batchWrite's WriteOp.mode), checked from outside: `stat -c %a` and strace of a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/reference-tools.js';
import { DIST, requireDist, tempDir } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const hasStrace = requireTool('strace', 'strace', 'the per-object chmod count of a store put (strace)');
const work = tempDir('forge-objmode-');
afterAll(() => {
  if (!process.env.KEEP) work.cleanup();
});

/** A child that opens a store in argv[2] with the given io, puts N distinct objects, closes. */
const CHILD = join(work.dir, 'put-objects.mjs');
writeFileSync(
  CHILD,
  `import { BlobStore } from ${JSON.stringify(`${DIST}/store/blob-store.js`)};
import { createFallbackBackend } from ${JSON.stringify(`${DIST}/io/fallback-backend.js`)};
import { createIoUringBackend } from ${JSON.stringify(`${DIST}/../native/linux/io-uring-backend.js`)};
const [dir, backend, sync, n, size, chunked] = process.argv.slice(2);
const io = backend === 'io_uring' ? createIoUringBackend() : backend === 'fallback' ? createFallbackBackend() : false;
const store = await BlobStore.open(dir, {
  io, sync: sync === '1', oDirect: size >= 8192, oDirectThreshold: 4096,
  ...(chunked === '1' ? { chunkThreshold: 64 * 1024 } : {}),
});
const items = [];
for (let i = 0; i < Number(n); i++) {
  const d = new Uint8Array(Number(size));
  for (let j = 0; j < d.length; j++) d[j] = (i * 131 + j * 7 + (j >> 5) * 13) & 255;
  items.push({ data: d });
}
const rs = await store.putMany(items);
for (const r of rs) if (!r.ok) { console.error(r.error.message); process.exit(3); }
await store.close();
if (io) await io.close();
`,
);

interface Run {
  backend: 'io_uring' | 'fallback' | 'none';
  sync: boolean;
  n: number;
  size: number;
  chunked?: boolean;
  umask?: string;
  strace?: boolean;
}

/** Runs the child; returns the store dir and, under strace, the chmod-family calls it made. */
function putObjects(run: Run): { dir: string; chmods: string[] } {
  const dir = join(work.dir, `store-${run.backend}-${run.sync}-${run.size}-${run.umask ?? 'd'}-${Math.random().toString(36).slice(2)}`);
  requireDist('store/blob-store.js');
  const args = [CHILD, dir, run.backend, run.sync ? '1' : '0', String(run.n), String(run.size), run.chunked ? '1' : '0'];
  const log = `${dir}.strace`;
  const cmd = run.strace ? ['strace', '-f', '-qq', '-e', 'trace=chmod,fchmod,fchmodat', '-o', log, process.execPath, ...args] : [process.execPath, ...args];
  const quoted = cmd.map((a) => `'${a}'`).join(' ');
  const r = spawnSync('sh', ['-c', `umask ${run.umask ?? '022'} && exec ${quoted}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const chmods = run.strace
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /chmod/.test(l))
    : [];
  return { dir, chmods };
}

/** `stat -c %a` of every file under objects/ (and manifests/ when present), tmp excluded. */
function objectModes(dir: string): string[] {
  const out = execFileSync(
    'sh',
    ['-c', `find '${dir}/objects' '${dir}/manifests' -type f -not -path '*/objects/tmp/*' -exec stat -c %a {} + 2>/dev/null || true`],
    {
      encoding: 'utf8',
    },
  );
  return out.split('\n').filter((l) => l !== '');
}

describe('objects are created 0400 (stat -c %a)', () => {
  for (const run of [
    { backend: 'io_uring', sync: true, n: 40, size: 3000 },
    { backend: 'fallback', sync: true, n: 40, size: 3000 },
    { backend: 'none', sync: true, n: 40, size: 3000 },
    { backend: 'none', sync: false, n: 40, size: 3000 },
    { backend: 'io_uring', sync: false, n: 40, size: 3000 },
    { backend: 'io_uring', sync: true, n: 6, size: 3 * 4096 + 123 }, // O_DIRECT path (buffered on tmpfs)
    { backend: 'io_uring', sync: true, n: 2, size: 400 * 1024, chunked: true }, // chunks + manifest
  ] satisfies Run[]) {
    it(`${run.backend} sync=${run.sync} size=${run.size}${run.chunked ? ' chunked' : ''}: every object is 400`, () => {
      const { dir } = putObjects(run);
      const modes = objectModes(dir);
      expect(modes.length).toBeGreaterThanOrEqual(run.n);
      expect(new Set(modes)).toEqual(new Set(['400']));
    });
  }

  it.skipIf(!asRoot)('as root, umask 0400 strips owner read at creation: the fallback chmod still makes every object 400', () => {
    for (const backend of ['io_uring', 'none'] as const) {
      const { dir } = putObjects({ backend, sync: true, n: 20, size: 2000, umask: '0400' });
      const modes = objectModes(dir);
      expect(modes.length).toBeGreaterThanOrEqual(20);
      expect(new Set(modes)).toEqual(new Set(['400']));
    }
  });
});

describe('a umask that takes the owner bits away, as a user other than root', () => {
  it.skipIf(asRoot)('is refused before anything is created: a configuration ForgeError that names the umask and what to set', () => {
    const dir = join(work.dir, `store-umask-refused-${Math.random().toString(36).slice(2)}`);
    requireDist('store/blob-store.js');
    const r = spawnSync('sh', ['-c', `umask 0400 && exec '${process.execPath}' '${CHILD}' '${dir}' none 1 3 100 0`], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the umask 0400 takes the owner's own permissions away");
    expect(r.stderr).toContain("category: 'configuration'");
    expect(r.stderr).toContain('umask 077');
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(!hasStrace)('no chmod per object (strace of a child putting N objects)', () => {
  const N = 60;
  for (const backend of ['io_uring', 'fallback'] as const) {
    it(`${backend}, synced: zero chmod/fchmod/fchmodat calls for ${N} objects`, () => {
      const { dir, chmods } = putObjects({ backend, sync: true, n: N, size: 3000, strace: true });
      expect(objectModes(dir).length).toBe(N);
      expect(chmods).toEqual([]);
    });
  }

  it.skipIf(!asRoot)('as root, under umask 0400 the chmod comes back, one per object (the check above can see chmods)', () => {
    const { chmods } = putObjects({ backend: 'io_uring', sync: true, n: N, size: 3000, strace: true, umask: '0400' });
    expect(chmods.length).toBeGreaterThanOrEqual(N);
  });
});
