/**
 * better-sqlite3 12 on Node >= 24 aborts the process ("Assertion failed: (env) != nullptr" in
 * ~Statement / ~StatementIterator) when a GC outside a JS context collects one of its objects
 * (host/node/index-db/statements.ts). That GC cannot be forced on demand, so this checks the rule
 * that prevents it: after an Index was used (every query kind, several connections) and closed,
 * none of its connections is ever finalized, and the process exits 0. The CLI end-to-end tests
 * under `npm run test:node-matrix` are the real reproduction: the daemon aborted at exit there.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { retainSqliteObjects } from '../../host/node/index-db/statements.js';
import { requireDist, tempDir } from '../store/helpers.js';

describe('Index teardown on Node >= 24', () => {
  it.skipIf(!retainSqliteObjects)('no connection of a closed Index is ever collected, and the process exits 0', () => {
    const indexJs = requireDist('index-db/index.js');
    const queriesJs = requireDist('index-db/queries.js');
    const t = tempDir('forge-teardown-');
    try {
      const script = `
        const { Index } = await import(${JSON.stringify(indexJs)});
        const q = await import(${JSON.stringify(queriesJs)});
        let finalized = 0, seen = 0;
        const registry = new FinalizationRegistry(() => finalized++);
        const h = (c) => c.repeat(64);
        for (let round = 0; round < 3; round++) {
          const index = await Index.open(${JSON.stringify(t.dir)} + '/index.db', { poolSize: 3 });
          await Promise.all(['a', 'b', 'c', 'd'].map((c, i) => index.addVersion({ path: c + round, kind: 'created', hash: h(c), size: i })));
          await Promise.all([index.files(), index.referencedHashes(), index.stats(), index.latest('a0'), index.versions('b0'),
            q.latestMany(index, ['a0', 'b0', 'zz']), q.versionHashes(index), index.setState('k', { round })]);
          await Promise.all([0, 1, 2].map(() => index.connections.with(async (db) => { registry.register(db, 0); seen++; await new Promise((r) => setTimeout(r, 5)); })));
          await index.close();
        }
        for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
        process.stdout.write(JSON.stringify({ seen, finalized }));
      `;
      const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).not.toMatch(/Assertion failed/);
      expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
      expect(JSON.parse(r.stdout)).toEqual({ seen: 9, finalized: 0 });
    } finally {
      t.cleanup();
    }
  });
});
