import { describe, it, expect } from 'vitest';
import Database from 'better-sqlite3';
import { Index } from '../../host/node/index-db/index.js';
import { SCHEMA_VERSION } from '../../host/node/index-db/migrations.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { tempDir } from '../store/helpers.js';

const h = (c: string): string => c.repeat(64).slice(0, 64);

describe('Index', () => {
  it('records versions and answers latest / versions / versionAt / files', async () => {
    const t = tempDir('forge-index-');
    const index = await Index.open(`${t.dir}/index.db`);
    try {
      const s1 = await index.addVersion({
        path: 'a.txt',
        kind: 'created',
        hash: h('a'),
        size: 1,
        mode: 0o644,
        mtimeMs: 1000.5,
        ino: 12345678901234567890n,
        timeMs: 1000,
      });
      const s2 = await index.addVersion({ path: 'a.txt', kind: 'modified', hash: h('b'), size: 2, mode: 0o644, timeMs: 2000 });
      const s3 = await index.addVersion({ path: 'b.txt', kind: 'created', hash: h('c'), size: 3, timeMs: 3000 });
      expect(s1).toBeLessThan(s2);
      expect(s2).toBeLessThan(s3);
      expect(await index.latest('a.txt')).toMatchObject({ seq: s2, hash: h('b'), kind: 'modified', size: 2 });
      const all = await index.versions('a.txt');
      expect(all.map((v) => v.seq)).toEqual([s1, s2]);
      expect(all[0]).toMatchObject({ mtimeMs: 1000.5, ino: '12345678901234567890', mode: 0o644 });
      expect((await index.versionAt('a.txt', s1))?.hash).toBe(h('a'));
      expect((await index.versionAt('a.txt', s3))?.hash).toBe(h('b'));
      expect((await index.versionAt('a.txt', new Date(1500)))?.hash).toBe(h('a'));
      expect(await index.versionAt('a.txt', new Date(999))).toBeUndefined();
      expect(await index.latest('nope')).toBeUndefined();
      expect((await index.files()).map((f) => f.path)).toEqual(['a.txt', 'b.txt']);

      await index.addVersion({ path: 'b.txt', kind: 'removed', timeMs: 4000 });
      expect((await index.files()).map((f) => f.path)).toEqual(['a.txt']);
      await index.addVersion({ path: 'c.txt', kind: 'renamed', oldPath: 'a.txt', hash: h('b'), size: 2, timeMs: 5000 });
      expect((await index.files()).map((f) => f.path)).toEqual(['c.txt']);
      expect(await index.latest('a.txt')).toMatchObject({ kind: 'removed', hash: null });
      expect(await index.latest('c.txt')).toMatchObject({ kind: 'renamed', oldPath: 'a.txt' });
      expect(await index.blob(h('b'))).toMatchObject({ refs: 2, size: 2 });
      expect(await index.referencedHashes()).toEqual(new Set([h('a'), h('b'), h('c')]));
      expect(await index.stats()).toMatchObject({ files: 1, versions: 6, blobs: 3, logicalBytes: 1 + 2 + 3 + 2 });
    } finally {
      await index.close();
      t.cleanup();
    }
  });

  it('prune keeps the newest versions / recent ones and releases unreferenced blobs', async () => {
    const t = tempDir('forge-index-');
    const index = await Index.open(`${t.dir}/index.db`);
    try {
      const day = 86_400_000;
      const now = 100 * day;
      for (let i = 0; i < 5; i++) {
        await index.addVersion({
          path: 'f',
          kind: i === 0 ? 'created' : 'modified',
          hash: h(String(i)),
          size: i,
          timeMs: now - (5 - i) * day,
          manifest: i === 0 ? h('m') : undefined,
        });
      }
      await index.addVersion({ path: 'g', kind: 'created', hash: h('0'), size: 0, timeMs: now - 50 * day });
      await expect(index.prune({})).rejects.toBeInstanceOf(ForgeError);
      // keepDays 2.5: versions at -2 and -1 days survive; also the newest of g (always kept).
      const r1 = await index.prune({ keepDays: 2.5, nowMs: now });
      expect(r1.versionsRemoved).toBe(3);
      // h('0') is still referenced by g; 1 and 2 are released.
      expect(r1.blobsReleased).toEqual([h('1'), h('2')].sort());
      expect((await index.versions('f')).map((v) => v.hash)).toEqual([h('3'), h('4')]);
      const r2 = await index.prune({ keep: 1 });
      expect(r2.versionsRemoved).toBe(1);
      expect(r2.blobsReleased).toEqual([h('3')]);
      expect(await index.referencedHashes()).toEqual(new Set([h('4'), h('0'), h('m')]));
    } finally {
      await index.close();
      t.cleanup();
    }
  });

  it('validates input with ForgeErrors', async () => {
    const t = tempDir('forge-index-');
    const index = await Index.open(`${t.dir}/index.db`);
    try {
      await expect(index.addVersion({ path: '', kind: 'created', hash: h('a'), size: 1 })).rejects.toMatchObject({ category: 'validation' });
      await expect(index.addVersion({ path: 'x', kind: 'created', hash: 'zz', size: 1 })).rejects.toMatchObject({ category: 'validation' });
      await expect(index.addVersion({ path: 'x', kind: 'bogus' as 'created', hash: h('a'), size: 1 })).rejects.toMatchObject({ category: 'validation' });
      await expect(index.addVersion({ path: 'x', kind: 'renamed', hash: h('a'), size: 1 })).rejects.toMatchObject({ category: 'validation' });
      // A failed batch records nothing.
      await expect(
        index.addVersions([
          { path: 'ok', kind: 'created', hash: h('a'), size: 1 },
          { path: 'bad', kind: 'created', hash: 'nope', size: 1 },
        ]),
      ).rejects.toBeInstanceOf(ForgeError);
      expect(await index.latest('ok')).toBeUndefined();
    } finally {
      await index.close();
      t.cleanup();
    }
  });

  it('keeps daemon state, persists across reopen, uses WAL and a schema version; refuses newer schemas', async () => {
    const t = tempDir('forge-index-');
    const file = `${t.dir}/index.db`;
    let index = await Index.open(file);
    await index.setState('cursor', { seq: 42, roots: ['/a'] });
    await index.addVersion({ path: 'p', kind: 'created', hash: h('e'), size: 9 });
    await index.close();
    index = await Index.open(file);
    expect(await index.getState('cursor')).toEqual({ seq: 42, roots: ['/a'] });
    expect(await index.getState('missing')).toBeUndefined();
    await index.setState('cursor', undefined);
    expect(await index.getState('cursor')).toBeUndefined();
    expect((await index.latest('p'))?.size).toBe(9);
    await index.close();
    const raw = new Database(file);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    await expect(Index.open(file)).rejects.toMatchObject({ category: 'configuration' });
    t.cleanup();
  });

  it('two indexes opened at once on a new file migrate it once', async () => {
    const t = tempDir('forge-index-');
    const file = `${t.dir}/index.db`;
    const [a, b] = await Promise.all([Index.open(file), Index.open(file)]);
    await a.addVersion({ path: 'x', kind: 'created', hash: h('1'), size: 1 });
    expect((await b.latest('x'))?.hash).toBe(h('1'));
    await Promise.all([a.close(), b.close()]);
    t.cleanup();
  });
});
