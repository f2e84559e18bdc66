import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { Index, type AddVersionInput, type ImportedBlob } from '../../host/node/index-db/index.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { tempDir } from '../store/helpers.js';

const h = (c: string): string => c.repeat(64).slice(0, 64);

/** The three tables as plain rows, read with SQL of our own (not through Index). */
function tables(file: string): { versions: unknown[]; files: unknown[]; blobs: unknown[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      versions: db
        .prepare(
          'SELECT v.seq, f.path, v.time_ms, v.kind, v.hash, v.size, v.mode, v.mtime_ms, v.ino, v.old_path FROM versions v JOIN files f ON f.id = v.file_id ORDER BY v.seq',
        )
        .all(),
      files: db.prepare('SELECT f.path, f.live, v.seq AS latest FROM files f LEFT JOIN versions v ON v.seq = f.latest_seq ORDER BY f.path').all(),
      blobs: db.prepare('SELECT hash, size, refs, manifest, chunks FROM blobs ORDER BY hash').all(),
    };
  } finally {
    db.close();
  }
}

describe('Index.importVersions / versionsAfter / maxSeq', () => {
  it('copying a history through versionsAfter + importVersions gives the same tables as recording it (fast-check, 100 runs)', async () => {
    const op = fc.record({
      path: fc.constantFrom('a', 'b', 'd/c', 'd/e'),
      kind: fc.constantFrom('created', 'modified', 'removed', 'renamed'),
      content: fc.constantFrom('1', '2', '3'),
      from: fc.constantFrom('a', 'b', 'd/c'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 11 }), async (ops, cut) => {
        const t = tempDir('forge-import-');
        const src = await Index.open(`${t.dir}/src.db`, { rebuild: true });
        const dst = await Index.open(`${t.dir}/dst.db`, { rebuild: true });
        try {
          let time = 1000;
          for (const o of ops) {
            const v: AddVersionInput =
              o.kind === 'removed'
                ? { path: o.path, kind: 'removed', timeMs: time++ }
                : {
                    path: o.path,
                    kind: o.kind,
                    hash: h(o.content),
                    size: Number(o.content),
                    mode: 0o644,
                    mtimeMs: time,
                    ino: 7,
                    timeMs: time++,
                    ...(o.kind === 'renamed' ? { oldPath: o.from } : {}),
                  };
            await src.addVersion(v);
          }
          const top = await src.maxSeq();
          const all = await src.versionsAfter(0);
          expect(all.map((v) => v.seq)).toEqual([...all.map((v) => v.seq)].sort((x, y) => x - y));
          expect(all.at(-1)?.seq ?? 0).toBe(top);
          const blobs = new Map<string, ImportedBlob>(['1', '2', '3'].map((c) => [h(c), { storedSize: 0, chunks: 1 }]));
          // Two imports (as two pulls): the second one takes what is after the first's newest seq.
          const split = Math.min(cut, all.length);
          await dst.importVersions(all.slice(0, split), blobs);
          await dst.importVersions(await src.versionsAfter(await dst.maxSeq()), blobs);
          expect(await dst.maxSeq()).toBe(top);
        } finally {
          await src.close();
          await dst.close();
        }
        expect(tables(`${t.dir}/dst.db`)).toEqual(tables(`${t.dir}/src.db`));
        t.cleanup();
      }),
      { numRuns: 100 },
    );
  });

  it('refuses versions at or below its newest seq, and a version whose content it was not given, writing nothing', async () => {
    const t = tempDir('forge-import-');
    const index = await Index.open(`${t.dir}/index.db`, { rebuild: true });
    try {
      await index.addVersion({ path: 'mine', kind: 'created', hash: h('a'), size: 1, timeMs: 1 });
      const before = tables(`${t.dir}/index.db`);
      const v = { seq: 1, path: 'theirs', timeMs: 2, kind: 'created' as const, hash: h('b'), size: 2, mode: null, mtimeMs: null, ino: null, oldPath: null };
      const blobs = new Map([[h('b'), { storedSize: 5, chunks: 1 }]]);
      const refused = await index.importVersions([v], blobs).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ForgeError);
      expect((refused as ForgeError).category).toBe('validation');
      expect((refused as ForgeError).message).toMatch(/start at seq 1, but this index already has versions up to 1/);
      // Seq 5 is fine, but the second version's content is unknown: the whole import is rolled back.
      const missing = await index
        .importVersions(
          [
            { ...v, seq: 5 },
            { ...v, seq: 6, hash: h('c') },
          ],
          blobs,
        )
        .catch((e: unknown) => e);
      expect((missing as Error).message).toMatch(/no stored content for c{64} \(version 6\)/);
      expect(tables(`${t.dir}/index.db`)).toEqual(before);
      await index.importVersions([{ ...v, seq: 9 }], blobs);
      expect(await index.maxSeq()).toBe(9);
      expect(await index.latest('theirs')).toMatchObject({ seq: 9, hash: h('b'), kind: 'created' });
      expect(await index.blob(h('b'))).toMatchObject({ refs: 1, storedSize: 5 });
      expect(await index.importVersions([], blobs)).toBeUndefined();
    } finally {
      await index.close();
      t.cleanup();
    }
  });
});
