// The batched flush of synced store batches, seen from outside the process (strace, a real kill -9,
// a real writeback error of a loop-mounted ext4): syncfs after the writes and before the renames,
// syncfs after the renames, no fsync per object; per-file fsync where the batched flush is not sound.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { requireRoot, requireTool } from '../support/reference-tools.js';
import { DIST, requireDist, sha256Hex, tempDir } from './helpers.js';

const linux = process.platform === 'linux';
const strace = linux && requireTool('strace', 'strace', 'system calls of the batched store flush (strace)');
/** The filesystem type of `dir` as the kernel's mount table names it (not from the code under test). */
function fsType(dir: string): string {
  // Stacked mounts print one line each: the last is the one on top.
  return spawnSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', dir], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1)!;
}
const tmpIsSound = linux && ['ext4', 'xfs', 'btrfs'].includes(fsType(tempDir().dir));

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.splice(0).reverse()) spawnSync('umount', ['-l', m]);
});

/** Runs a child script under `strace -f -y` (the calls given); its trace lines and stdout. */
function traced(dir: string, script: string, calls: string, env: NodeJS.ProcessEnv = {}): { lines: string[]; stdout: string } {
  const file = join(dir, 'child.mjs');
  writeFileSync(file, `const { BlobStore } = await import(${JSON.stringify(join(DIST, 'store/blob-store.js'))});\nconst dir = process.argv[2];\n${script}`);
  const log = join(dir, 'strace.log');
  const r = spawnSync('strace', ['-f', '-y', '-qq', '-e', `trace=${calls}`, '-o', log, process.execPath, file, join(dir, 'store')], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { lines: readFileSync(log, 'utf8').split('\n'), stdout: r.stdout };
}

const N = 40;
/** A child that puts N small objects in one synced putMany (after one put that decides the flush mode), printing store.flush. */
const PUT_MANY = (options: string): string => `const store = await BlobStore.open(dir, { sync: true, workers: 0, ${options} });
await store.put(new TextEncoder().encode('first'));
const items = Array.from({ length: ${N} }, (_, i) => new TextEncoder().encode('object number ' + i + ' ' + Math.random()));
console.error = () => {};
process.stdout.write('BATCH\\n');
const r = await store.putMany(items);
if (r.some((x) => !x.ok)) throw new Error('a put failed');
console.log(JSON.stringify(store.flush));
await store.close();`;

const CALLS = 'openat,write,pwrite64,writev,fsync,fdatasync,syncfs,rename,renameat,renameat2';

/** Trace lines from the putMany on (the first put and the store's opening left out). */
function batchLines(lines: string[], store: string): string[] {
  const start = lines.findIndex((l) => /write\(1</.test(l) && l.includes('BATCH'));
  expect(start).toBeGreaterThan(0);
  return lines.slice(start).filter((l) => l.includes(store) || /syncfs/.test(l));
}

describe.skipIf(!linux)('batched flush of a synced batch', () => {
  for (const [name, options, env] of [
    ['node:fs only (io: false)', 'io: false', {}],
    ['the fallback backend', '', { FORGE_IO_BACKEND: 'fallback' }],
  ] as const) {
    it.skipIf(!strace || !tmpIsSound)(
      `on ${tmpIsSound ? fsType(tempDir().dir) : 'ext4'} with ${name}: writes, then syncfs, then the renames, then syncfs; no fsync of any object`,
      () => {
        requireDist('store/blob-store.js');
        const t = tempDir();
        try {
          const { lines, stdout } = traced(t.dir, PUT_MANY(options), CALLS, env);
          expect(JSON.parse(stdout.split('\n').at(-2)!)).toMatchObject({ mode: 'syncfs', syncfsCalls: 4 });
          const objects = join(t.dir, 'store', 'objects');
          const batch = batchLines(lines, objects);
          const at = (re: RegExp): number[] => batch.map((l, i) => (re.test(l) ? i : -1)).filter((i) => i >= 0);
          const creates = at(/openat\(.*objects\/tmp\/.*O_CREAT/);
          const writes = at(/^\d+\s+(write|pwrite64|writev)\(\d+<[^>]*objects\/tmp\//);
          const renames = at(/rename/);
          const syncfs = at(/syncfs\(/);
          const fsyncs = at(/f(data)?sync\(/);
          expect(creates.length).toBe(N);
          expect(writes.length).toBeGreaterThanOrEqual(N);
          expect(renames.length).toBe(N);
          expect(syncfs.length).toBe(2);
          expect(fsyncs).toEqual([]); // no fsync of a tmp file, an object or a fan-out directory
          // syncfs #1 after every write, before every rename; syncfs #2 after every rename.
          expect(Math.max(...creates, ...writes)).toBeLessThan(syncfs[0]!);
          expect(Math.min(...renames)).toBeGreaterThan(syncfs[0]!);
          expect(Math.max(...renames)).toBeLessThan(syncfs[1]!);
          // The syncfs goes to a descriptor of the store's objects directory.
          expect(batch[syncfs[0]!]).toContain(`syncfs(`);
          expect(batch[syncfs[0]!]).toContain(objects);
        } finally {
          t.cleanup();
        }
      },
    );
  }

  it.skipIf(!strace || !tmpIsSound)("flush: 'per-file' keeps an fsync per object and no syncfs", () => {
    requireDist('store/blob-store.js');
    const t = tempDir();
    try {
      const { lines, stdout } = traced(t.dir, PUT_MANY(`io: false, flush: 'per-file'`), CALLS);
      expect(JSON.parse(stdout.split('\n').at(-2)!)).toMatchObject({ mode: 'per-file', syncfsCalls: 0 });
      const batch = batchLines(lines, join(t.dir, 'store', 'objects'));
      expect(batch.filter((l) => /syncfs\(/.test(l))).toEqual([]);
      expect(batch.filter((l) => /fsync\(\d+<[^>]*objects\/tmp\//.test(l)).length).toBe(N);
    } finally {
      t.cleanup();
    }
  });

  it.skipIf(!strace)('on tmpfs (/dev/shm) the batched flush is not used: an fsync per object, no syncfs', () => {
    requireDist('store/blob-store.js');
    if (fsType('/dev/shm') !== 'tmpfs') return expect.fail('/dev/shm is not tmpfs here');
    const dir = join('/dev/shm', `forge-flush-${process.pid}`);
    mkdirSync(dir);
    try {
      const { lines, stdout } = traced(dir, PUT_MANY('io: false'), CALLS);
      expect(JSON.parse(stdout.split('\n').at(-2)!)).toMatchObject({ mode: 'per-file', filesystem: 'tmpfs', syncfsCalls: 0 });
      const batch = batchLines(lines, join(dir, 'store', 'objects'));
      expect(batch.filter((l) => /syncfs\(/.test(l))).toEqual([]);
      expect(batch.filter((l) => /fsync\(\d+<[^>]*objects\/tmp\//.test(l)).length).toBe(N);
    } finally {
      spawnSync('rm', ['-rf', dir]);
    }
  });

  const ext2 =
    linux &&
    requireRoot('the per-file fallback on an ext2 (same statfs magic as ext4) loop mount') &&
    requireTool('mkfs.ext2', 'e2fsprogs', 'the per-file fallback on ext2');
  it.skipIf(!strace || !ext2)('on ext2 (which shares the statfs magic of ext4) the batched flush is not used: an fsync per object', () => {
    requireDist('store/blob-store.js');
    const t = tempDir();
    try {
      const img = join(t.dir, 'ext2.img');
      const mnt = join(t.dir, 'mnt');
      mkdirSync(mnt);
      expect(spawnSync('truncate', ['-s', '32M', img]).status).toBe(0);
      expect(spawnSync('mkfs.ext2', ['-q', '-F', img]).status).toBe(0);
      const m = spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`mount -o loop failed (no loop device?): ${m.stderr}`);
      mounts.push(mnt);
      expect(fsType(mnt)).toBe('ext2');
      const { lines, stdout } = traced(mnt, PUT_MANY('io: false'), CALLS);
      expect(JSON.parse(stdout.split('\n').at(-2)!)).toMatchObject({ mode: 'per-file', filesystem: 'ext2', syncfsCalls: 0 });
      const batch = batchLines(lines, join(mnt, 'store', 'objects'));
      expect(batch.filter((l) => /syncfs\(/.test(l))).toEqual([]);
      expect(batch.filter((l) => /fsync\(\d+<[^>]*objects\/tmp\//.test(l)).length).toBe(N);
    } finally {
      spawnSync('umount', ['-l', join(t.dir, 'mnt')]);
      t.cleanup();
    }
  });
});

/** Every object under a final name in `storeDir`, read back with verification; the hashes. */
async function everyObjectVerifies(storeDir: string): Promise<string[]> {
  const store = await BlobStore.open(storeDir, { workers: 0 });
  const seen: string[] = [];
  try {
    const objects = join(storeDir, 'objects');
    for (const d of readdirSync(objects).filter((n) => /^[0-9a-f]{2}$/.test(n))) {
      for (const f of readdirSync(join(objects, d))) {
        const hash = d + f;
        const data = await store.get(hash, { verify: true });
        expect(sha256Hex(data)).toBe(hash); // node:crypto over the decoded bytes, beside the store's own check
        seen.push(hash);
      }
    }
  } finally {
    await store.close();
  }
  return seen;
}

describe.skipIf(!linux)('batched flush under failure', () => {
  it.skipIf(!tmpIsSound)(
    'kill -9 in the middle of large synced putMany batches: every final name holds a complete, verifying frame; every resolved put is there',
    async () => {
      requireDist('store/blob-store.js');
      const t = tempDir('forge-flush-crash-');
      const storeDir = join(t.dir, 'store');
      const child = join(t.dir, 'child.mjs');
      // Batches of 800 small objects, forever; each resolved hash is printed once its putMany resolved.
      writeFileSync(
        child,
        `const { BlobStore } = await import(${JSON.stringify(join(DIST, 'store/blob-store.js'))});
const { randomBytes } = await import('node:crypto');
const store = await BlobStore.open(process.argv[2], { sync: true, workers: 0 });
await store.put(randomBytes(100));
process.stdout.write('mode ' + store.flush.mode + '\\n');
for (;;) {
  const r = await store.putMany(Array.from({ length: 800 }, () => randomBytes(200 + Math.floor(Math.random() * 3000))));
  process.stdout.write(r.filter((x) => x.ok).map((x) => 'ok ' + x.hash + '\\n').join(''));
}`,
      );
      try {
        const resolved: string[] = [];
        for (let round = 0; round < 3; round++) {
          const p = spawn(process.execPath, [child, storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          await new Promise<void>((resolve, reject) => {
            const poll = setInterval(() => {
              if (!out.includes('mode ')) return;
              clearInterval(poll);
              setTimeout(() => p.kill('SIGKILL'), 300 + Math.floor(Math.random() * 700));
            }, 5);
            p.once('exit', (code, signal) => {
              clearInterval(poll);
              if (signal === 'SIGKILL') resolve();
              else reject(new Error(`child exited on its own (code ${code}): ${err}`));
            });
          });
          expect(out).toContain('mode syncfs');
          for (const line of out.split('\n')) if (line.startsWith('ok ')) resolved.push(line.slice(3));
        }
        const present = new Set(await everyObjectVerifies(storeDir));
        expect(present.size).toBeGreaterThan(0);
        for (const h of resolved) expect(present.has(h)).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  const canLoop =
    linux &&
    requireRoot('a real writeback error under the batched flush (ext4 on a loop device over a full tmpfs)') &&
    requireTool('mkfs.ext4', 'e2fsprogs', 'a real writeback error under the batched flush');
  it.skipIf(!canLoop)(
    'a writeback error (ext4 whose loop device sits on a full tmpfs: EIO at syncfs) fails every put of the batch with a ForgeError; no object of it gets a final name',
    async () => {
      const t = tempDir('forge-flush-eio-');
      const back = join(t.dir, 'back');
      const mnt = join(t.dir, 'mnt');
      mkdirSync(back);
      mkdirSync(mnt);
      try {
        // A 128 MiB sparse image on a 6 MiB tmpfs: mkfs and the first writes fit, the batch's data cannot.
        expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6M', 'tmpfs', back]).status).toBe(0);
        mounts.push(back);
        const img = join(back, 'ext4.img');
        expect(spawnSync('truncate', ['-s', '128M', img]).status).toBe(0);
        expect(spawnSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=1,lazy_journal_init=1', img]).status).toBe(0);
        const m = spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
        if (m.status !== 0) throw new Error(`mount -o loop failed (no loop device?): ${m.stderr}`);
        mounts.push(mnt);
        const store = await BlobStore.open(join(mnt, 'store'), { sync: true, workers: 0, compression: 'none' });
        try {
          await store.put(randomBytes(10));
          expect(store.flush).toMatchObject({ mode: 'syncfs', filesystem: 'ext4' });
          const items = Array.from({ length: 12 }, () => randomBytes(1 << 20)); // 12 MiB: more than the tmpfs holds
          const results = await store.putMany(items);
          expect(results.filter((r) => r.ok)).toEqual([]);
          for (const [i, r] of results.entries()) {
            if (r.ok) continue;
            expect(r.error).toBeInstanceOf(ForgeError);
            expect(r.error.context.operation).toBe('syncfs');
            expect(['EIO', 'ENOSPC', 'EROFS']).toContain(r.error.context.code);
            expect(r.error.message).toContain('syncfs');
            expect(r.error.suggestions().length).toBeGreaterThan(0);
            expect(existsSync(objectPath(join(mnt, 'store'), sha256Hex(items[i]!)))).toBe(false);
          }
        } finally {
          await store.close();
        }
      } finally {
        spawnSync('umount', ['-l', mnt]);
        spawnSync('umount', ['-l', back]);
        t.cleanup();
      }
    },
  );
});

describe('choosing the flush', () => {
  it('a flush value that is not auto or per-file (FORGE_STORE_FLUSH or the option) is a configuration ForgeError naming where it came from', async () => {
    const t = tempDir();
    const saved = process.env.FORGE_STORE_FLUSH;
    try {
      process.env.FORGE_STORE_FLUSH = 'sometimes';
      const e1 = await BlobStore.open(t.dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(e1).toBeInstanceOf(ForgeError);
      expect((e1 as ForgeError).category).toBe('configuration');
      expect((e1 as ForgeError).message).toContain('FORGE_STORE_FLUSH');
      delete process.env.FORGE_STORE_FLUSH;
      const e2 = await BlobStore.open(t.dir, { flush: 'never' as 'auto' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((e2 as ForgeError).category).toBe('configuration');
      expect((e2 as ForgeError).context.field).toBe('flush');
    } finally {
      if (saved === undefined) delete process.env.FORGE_STORE_FLUSH;
      else process.env.FORGE_STORE_FLUSH = saved;
      t.cleanup();
    }
  });

  it('store.flush says what the first write decided: per-file when chosen, off without sync, syncfs on a sound filesystem', async () => {
    for (const [options, mode] of [
      [{ flush: 'per-file' as const }, 'per-file'],
      [{ sync: false }, 'off'],
      [{}, tmpIsSound ? 'syncfs' : 'per-file'],
    ] as const) {
      const t = tempDir();
      const store = await BlobStore.open(t.dir, { workers: 0, ...options });
      try {
        expect(store.flush.mode).toBe('undecided');
        const data = randomBytes(50);
        const r = await store.put(data);
        expect(sha256Hex(await store.get(r.hash))).toBe(sha256Hex(data));
        expect(store.flush.mode).toBe(mode);
        expect(store.flush.reason.length).toBeGreaterThan(0);
        expect(store.flush.syncfsCalls).toBe(mode === 'syncfs' ? 2 : 0);
      } finally {
        await store.close();
        t.cleanup();
      }
    }
  });
});
