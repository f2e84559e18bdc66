/**
 * `forge watch --once --push <remote>` with the remote unreachable (127.0.0.1, a closed port): the
 * local recording is done, the push fails after its retries (kept short through the retry config),
 * and the run exits with the remote commands' network code (1) and the error on stderr — not 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, forge } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';
import { cleanup, sql, tempDir } from './support.js';

const sqlite = requireTool('sqlite3', 'sqlite3', 'push --once checks against the index with the sqlite3 CLI');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.skipIf(!sqlite)('forge watch --once --push', () => {
  assertBuilt();

  it('a failed push exits 1 (network) with the error on stderr; the recording is kept', async () => {
    const base = tempDir('push-once');
    dirs.push(base);
    const root = path.join(base, 'tree');
    mkdirSync(root);
    writeFileSync(path.join(root, 'a.txt'), 'a');
    expect(forge(['watch', '--once', '--no-metrics', root], { cwd: base }).code).toBe(0);
    const port = await closedPort();
    const add = forge(['remote', 'add', 'r', 's3://bucket/prefix', '--endpoint', `http://127.0.0.1:${port}`, '--path-style'], { cwd: root });
    expect(add.code, add.stderr).toBe(0);
    writeFileSync(path.join(root, 'b.txt'), 'b');
    const env = {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      FORGE_RETRY_MAX_ATTEMPTS: '2',
      FORGE_RETRY_BASE_DELAY_MS: '1',
      FORGE_RETRY_MAX_DELAY_MS: '1',
    };
    const r = forge(['watch', '--once', '--no-metrics', '--push', 'r', root], { cwd: base, env });
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    expect(r.stderr).toMatch(/^forge: error: .*ECONNREFUSED/m);
    expect(r.stderr).toMatch(/category: network/);
    // The local recording is done all the same.
    expect(sql(path.join(root, '.forge', 'index.db'), "SELECT count(*) FROM files WHERE path = 'b.txt'")).toEqual([['1']]);
  }, 120_000);
});
