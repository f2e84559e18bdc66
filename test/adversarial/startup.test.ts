/**
 * Starting the daemon: a stale or foreign pid never blocks it (the lock is flock(2)), a second
 * daemon on the same store is refused, an impossible store fails
 * at once, and a killed restore's temp files are never recorded.
 */
import { mkdirSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, Daemon, forge, sleep } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';
import { cleanup, sql, tempDir } from './support.js';

const sqlite = requireTool('sqlite3', 'sqlite3', 'adversarial index checks with the sqlite3 CLI');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});

function tree(): { base: string; root: string } {
  const base = tempDir('startup');
  dirs.push(base);
  const root = path.join(base, 'tree');
  mkdirSync(root);
  writeFileSync(path.join(root, 'a.txt'), 'a');
  return { base, root };
}

describe.skipIf(!sqlite)('daemon startup', () => {
  assertBuilt();

  it('a lock file naming a live unrelated pid does not block startup; a second daemon on the store is refused', async () => {
    const t = tree();
    const store = path.join(t.root, '.forge');
    mkdirSync(store, { recursive: true });
    // pid 1 is alive and is not a forge daemon; a pid-trusting lock would refuse to start.
    writeFileSync(path.join(store, 'daemon.lock'), '1\n');
    writeFileSync(path.join(store, 'daemon.pid'), '1\n');
    const d = new Daemon([t.root, '--no-metrics'], { cwd: t.base });
    await d.ready();
    const second = forge(['watch', '--no-metrics', t.root], { cwd: t.base, timeoutMs: 30_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(new RegExp(`already recording .*pid ${d.child.pid}|pid ${d.child.pid}.*already recording`));
    expect(await d.stop()).toBe(0);
  }, 60_000);

  it('an impossible store (FORGE_STORE_DIR=/proc/nonexistent/x) fails at once with a clear error', () => {
    const t = tree();
    const r = forge(['watch', '--no-metrics', t.root], { cwd: t.base, env: { FORGE_STORE_DIR: '/proc/nonexistent/x' }, timeoutMs: 20_000 });
    // Root gets past the config check (it may write anywhere) and fails creating the directory; another
    // user is stopped by the config check (exit 78). Either way: at once, naming the path.
    if (process.getuid?.() === 0) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot create the store directory /proc/nonexistent');
    } else {
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(/storeDir: "\/proc\/nonexistent\/x" does not exist and cannot be created/);
    }
  });

  it("a killed restore's temp file is never recorded, and an old one is removed by the catch-up", async () => {
    const t = tree();
    const fresh = path.join(t.root, '.a.txt.forge-restore-0123456789ab');
    const old = path.join(t.root, '.b.txt.forge-restore-ba9876543210');
    writeFileSync(fresh, 'half a restore');
    writeFileSync(old, 'an old half restore');
    utimesSync(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    expect(forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base }).code).toBe(0);
    expect(existsSync(fresh)).toBe(true); // a live restore may still be writing it
    expect(existsSync(old)).toBe(false);
    const d = new Daemon([t.root, '--no-metrics', '--debounce-ms', '20'], { cwd: t.base });
    await d.ready();
    writeFileSync(path.join(t.root, '.c.txt.forge-restore-00aa00aa00aa'), 'during');
    writeFileSync(path.join(t.root, 'c.txt'), 'c');
    const index = path.join(t.root, '.forge', 'index.db');
    for (let i = 0; i < 200 && sql(index, "SELECT count(*) FROM files WHERE path = 'c.txt'")[0]![0] === '0'; i++) await sleep(50);
    expect(await d.stop()).toBe(0);
    expect(sql(index, "SELECT count(*) FROM files WHERE path LIKE '%forge-restore%'")).toEqual([['0']]);
    expect(sql(index, "SELECT count(*) FROM files WHERE path = 'c.txt'")).toEqual([['1']]);
  }, 60_000);

  it('a name that is not valid UTF-8 is reported, not silently dropped', () => {
    const t = tree();
    const bad = Buffer.concat([Buffer.from(path.join(t.root, 'bad-')), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
    writeFileSync(bad, 'x');
    const r = forge(['watch', '--once', '--no-metrics', t.root], { cwd: t.base });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('not valid UTF-8 (bytes 6261642dfffe2e747874)');
  });
});
