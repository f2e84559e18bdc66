// The put path seen from outside the process: which system calls a batch of puts makes (strace),
// what lands on disk (lz4 CLI, sha256sum) and what a put of existing content leaves alone.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { requireTool } from '../support/reference-tools.js';
import { DIST, requireDist, sha256Hex, tempDir } from './helpers.js';

const strace = process.platform === 'linux' && requireTool('strace', 'strace', 'system calls of the store put path (strace)');
const lz4 = requireTool('lz4', 'lz4', 'decoding objects written by the store with the lz4 CLI');

/** sha256sum of what `lz4 -dc` makes of the file (both independent of the store's code). */
function decodedHash(path: string): string {
  const d = spawnSync('lz4', ['-dc', path], { maxBuffer: 1 << 26 });
  expect(d.status).toBe(0);
  return spawnSync('sha256sum', [], { input: d.stdout, encoding: 'utf8' }).stdout.split(' ')[0]!;
}

/** `n` distinct contents whose objects all fall in one fan-out directory (same first hex byte). */
function sameFanout(n: number, prefix: string): Buffer[] {
  const out: Buffer[] = [];
  while (out.length < n) {
    const c = Buffer.concat([Buffer.from('text that compresses, text that compresses '), randomBytes(64)]);
    if (sha256Hex(c).startsWith(prefix)) out.push(c);
  }
  return out;
}

/** Runs `script` (an ES module given the store directory and the contents' file) under strace; its trace lines. */
function traced(dir: string, script: string, contents: Buffer[], calls: string): { lines: string[]; stdout: string } {
  const file = join(dir, 'child.mjs');
  writeFileSync(file, `const { BlobStore } = await import(${JSON.stringify(join(DIST, 'store/blob-store.js'))});\n${script}`);
  const inputs = join(dir, 'inputs.json');
  writeFileSync(inputs, JSON.stringify(contents.map((c) => c.toString('base64'))));
  const log = join(dir, 'strace.log');
  const r = spawnSync('strace', ['-f', '-y', '-qq', '-e', `trace=${calls}`, '-o', log, process.execPath, file, join(dir, 'store'), inputs], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { lines: readFileSync(log, 'utf8').split('\n'), stdout: r.stdout };
}

const READ_INPUTS = `const { readFileSync } = await import('node:fs');
const [dir, inputs] = process.argv.slice(2);
const contents = JSON.parse(readFileSync(inputs, 'utf8')).map((b) => Buffer.from(b, 'base64'));`;

describe('put path, seen from outside', () => {
  it.skipIf(!strace)(
    'a synced batch of puts into one fan-out directory (flush per-file) fsyncs that directory once, after every object is there; each object decodes with the lz4 CLI',
    () => {
      requireDist('store/blob-store.js');
      const t = tempDir();
      try {
        const contents = sameFanout(12, 'a7');
        const hashes = contents.map((c) => sha256Hex(c));
        // One putMany and, separately, 12 single puts of one turn: both are one batch each.
        const { lines, stdout } = traced(
          t.dir,
          `${READ_INPUTS}
const store = await BlobStore.open(dir, { sync: true, workers: 0, flush: 'per-file' });
const a = await store.putMany(contents.slice(0, 6));
const b = await Promise.all(contents.slice(6).map((c) => store.put(c)));
console.log(JSON.stringify([...a.map((r) => r.hash), ...b.map((r) => r.hash)]));
await store.close();`,
          contents,
          'fsync,fdatasync,rename,renameat,renameat2',
        );
        expect(JSON.parse(stdout)).toEqual(hashes);
        const fanout = join(t.dir, 'store', 'objects', 'a7');
        const dirSyncs = lines.filter((l) => /fsync\(\d+</.test(l) && l.includes(`<${fanout}>`));
        // Two batches (the putMany, then the puts of one turn): one directory fsync each, not one per object.
        expect(dirSyncs.length).toBe(2);
        // Each directory fsync comes after the renames of its batch into that directory.
        const renames = lines.map((l, i) => (/rename/.test(l) && l.includes(`${fanout}/`) ? i : -1)).filter((i) => i >= 0);
        expect(renames.length).toBe(12);
        const syncAt = lines.map((l, i) => (dirSyncs.includes(l) ? i : -1)).filter((i) => i >= 0);
        expect(renames.slice(0, 6).every((i) => i < syncAt[0]!)).toBe(true);
        expect(renames.slice(6).every((i) => i > syncAt[0]! && i < syncAt[1]!)).toBe(true);
        if (lz4) for (const h of hashes) expect(decodedHash(objectPath(join(t.dir, 'store'), h))).toBe(h);
      } finally {
        t.cleanup();
      }
    },
  );

  it.skipIf(!strace)('new content in a fresh store is written without asking whether its object exists; content put again is checked, not rewritten', () => {
    requireDist('store/blob-store.js');
    const t = tempDir();
    try {
      const contents = Array.from({ length: 20 }, () => randomBytes(3000));
      const { lines } = traced(
        t.dir,
        `${READ_INPUTS}
const store = await BlobStore.open(dir, { sync: false, workers: 0 });
await store.put(contents[0]); // the first write makes the fan-out directories
for (const c of contents.slice(1)) await store.put(c);
for (const c of contents) await store.put(c);
await store.close();`,
        contents,
        'access,faccessat,faccessat2,rename,renameat,renameat2',
      );
      const store = join(t.dir, 'store');
      const asked = (h: string): number => lines.filter((l) => /access/.test(l) && l.includes(objectPath(store, h))).length;
      const renamedTo = (h: string): number => lines.filter((l) => /rename/.test(l) && l.includes(`"${objectPath(store, h)}"`)).length;
      // The first put came before the fan-out directories existed: checked. The 19 after it: not.
      const hashes = contents.map((c) => sha256Hex(c));
      expect(hashes.slice(1).map(asked)).toEqual(hashes.slice(1).map(() => 1)); // once each: the second round only
      expect(asked(hashes[0]!)).toBe(2);
      // Every object renamed into place exactly once: the second round rewrote nothing.
      expect(hashes.map(renamedTo)).toEqual(hashes.map(() => 1));
      if (lz4) for (const h of hashes) expect(decodedHash(objectPath(store, h))).toBe(h);
    } finally {
      t.cleanup();
    }
  });

  it('a put of existing content, alone, in a putMany or from another store of the same directory, leaves the object file alone', async () => {
    const t = tempDir();
    mkdirSync(join(t.dir, 's'));
    const a = await BlobStore.open(join(t.dir, 's'), { sync: false, workers: 0 });
    const b = await BlobStore.open(join(t.dir, 's'), { sync: false, workers: 0 });
    try {
      const data = randomBytes(5000);
      const first = await a.put(data);
      expect(first.storedBytes).toBeGreaterThan(0);
      const path = objectPath(join(t.dir, 's'), first.hash);
      const ino = statSync(path).ino;
      expect((await a.put(data)).storedBytes).toBe(0);
      const many = await a.putMany([data, randomBytes(10), data]);
      expect(many[0]).toMatchObject({ ok: true, storedBytes: 0 });
      expect(many[2]).toMatchObject({ ok: true, storedBytes: 0 });
      expect((await b.put(data)).storedBytes).toBe(0);
      // A rewrite is a rename of a new file over it: a new inode.
      expect(statSync(path).ino).toBe(ino);
      expect(sha256Hex(await b.get(first.hash))).toBe(first.hash);
    } finally {
      await a.close();
      await b.close();
      t.cleanup();
    }
  });
});
