/**
 * SIGTERM on the real `forge watch` under a writer: the state step saves what was recorded, no
 * descriptor of the store, index or watcher is left open at exit (the daemon's last shutdown step
 * reads /proc/self/fd under --debug), and a restart's catch-up does not read unchanged files again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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

/** The JSON log records with `message` among `stderr` lines. */
function records(stderr: string, message: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r['message'] === message);
}

describe.skipIf(!sqlite || process.platform !== 'linux')('shutdown of the real daemon', () => {
  assertBuilt();

  it('saves its state, closes every store/index/watcher fd, and a restart does not re-read unchanged files', async () => {
    const base = tempDir('shutdown');
    dirs.push(base);
    const root = path.join(base, 'tree');
    mkdirSync(root);
    for (let i = 0; i < 60; i++) writeFileSync(path.join(root, `s${i}.txt`), `static ${i}`);
    const d = new Daemon([root, '--no-metrics', '--debounce-ms', '20', '--debug'], { cwd: base });
    await d.ready();
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        writeFileSync(path.join(root, `w${n % 5}.txt`), `write ${n}`);
        await sleep(5);
      }
    })();
    await sleep(1500);
    expect(await d.stop('SIGTERM')).toBe(0);
    writing = false;
    await writer;

    const state = JSON.parse(sql(path.join(root, '.forge', 'index.db'), "SELECT value FROM state WHERE key = 'daemon'")[0]![0]!) as Record<string, unknown>;
    expect(state['cleanShutdown']).toBe(true);
    expect(state['root']).toBe(root);
    expect(Number(state['batches'])).toBeGreaterThan(0);
    expect(Number(state['versionsRecorded'])).toBeGreaterThanOrEqual(60);
    const fdReport = records(d.stderr, 'open descriptors at exit');
    expect(fdReport).toHaveLength(1);
    expect(fdReport[0]!['fds']).toEqual([]);

    // Restart (catch-up only): the 60 unchanged files are not read; at most the 5 written ones are.
    const again = forge(['watch', '--once', '--no-metrics', root], { cwd: base });
    expect(again.code).toBe(0);
    const scan = records(again.stderr, 'scan complete')[0]!;
    expect(Number(scan['filesRead'])).toBeLessThanOrEqual(5);
    expect(Number(scan['unchanged'])).toBeGreaterThanOrEqual(60);
  }, 90_000);
});
