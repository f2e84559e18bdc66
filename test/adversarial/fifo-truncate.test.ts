/**
 * Files swapped for FIFOs during a scan never hang it; files truncated during their read are never
 * recorded as a version that did not exist (each recorded content is a state the file really had:
 * a prefix of the original, whose length is the recorded size).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, forge } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';
import { cleanup, Hostile, sql, tempDir } from './support.js';

const tools =
  requireTool('lz4', 'lz4', 'decoding recorded versions with the lz4 CLI') &&
  requireTool('sqlite3', 'sqlite3', 'adversarial index checks with the sqlite3 CLI');
const dirs: string[] = [];
const hostiles: Hostile[] = [];
afterEach(async () => {
  for (const h of hostiles.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

const FIFO_SWAPPER = `
const fs = require('fs'), path = require('path'), { execFileSync } = require('child_process');
const [dir, n] = [process.argv[1], Number(process.argv[2])];
fs.writeSync(1, 'started\\n');
for (let k = 0; ; k++) {
  const f = path.join(dir, 'p' + (k % n) + '.txt'), tmp = f + '.fifo';
  try {
    if (k % 2 === 0) { fs.rmSync(tmp, { force: true }); execFileSync('mkfifo', [tmp]); fs.renameSync(tmp, f); }
    else { fs.writeFileSync(tmp, 'plain ' + k); fs.renameSync(tmp, f); }
  } catch {}
}`;

const TRUNCATER = `
const fs = require('fs'), path = require('path');
const [dir, n, size] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const fds = Array.from({ length: n }, (_, i) => fs.openSync(path.join(dir, 't' + i + '.bin'), 'r+'));
fs.writeSync(1, 'started\\n');
for (;;) for (const fd of fds) { const cur = fs.fstatSync(fd).size; if (cur > 4096) fs.ftruncateSync(fd, Math.floor(cur * Math.random())); }`;

describe.skipIf(!tools)('FIFOs and truncation during a scan', () => {
  assertBuilt();

  it('files swapped for FIFOs during --once scans never hang them (3 rounds)', async () => {
    const base = tempDir('fifo');
    dirs.push(base);
    const root = path.join(base, 'tree');
    mkdirSync(root);
    for (let i = 0; i < 100; i++) writeFileSync(path.join(root, `p${i}.txt`), `plain ${i}`);
    const swapper = new Hostile(FIFO_SWAPPER, [root, '100']);
    hostiles.push(swapper);
    await swapper.started;
    for (let round = 0; round < 3; round++) {
      const r = forge(['watch', '--once', '--no-metrics', root], { cwd: base, timeoutMs: 60_000 });
      expect(r.code, `round ${round}: ${r.stderr.slice(-2000)}`).toBe(0); // null would be the timeout: a hang
    }
  }, 240_000);

  it('a file truncated during its read is recorded only as a state it really had', async () => {
    const base = tempDir('trunc');
    dirs.push(base);
    const root = path.join(base, 'tree');
    mkdirSync(root);
    const size = 2 * 1024 * 1024;
    const originals = new Map<string, Buffer>();
    for (let i = 0; i < 8; i++) {
      const data = randomBytes(size);
      originals.set(`t${i}.bin`, data);
      writeFileSync(path.join(root, `t${i}.bin`), data);
    }
    const truncater = new Hostile(TRUNCATER, [root, '8', String(size)]);
    hostiles.push(truncater);
    await truncater.started;
    for (let round = 0; round < 2; round++) {
      for (const [name, data] of originals) writeFileSync(path.join(root, name), data);
      expect(forge(['watch', '--once', '--no-metrics', root], { cwd: base, timeoutMs: 120_000 }).code).toBe(0);
    }
    await truncater.stop();
    const store = path.join(root, '.forge');
    const rows = sql(path.join(store, 'index.db'), 'SELECT f.path, v.hash, v.size FROM versions v JOIN files f ON f.id = v.file_id WHERE v.hash IS NOT NULL');
    expect(rows.length).toBeGreaterThan(0);
    let checked = 0;
    for (const [p, hash, sizeText] of rows) {
      const obj = path.join(store, 'objects', hash!.slice(0, 2), hash!.slice(2));
      let content: Buffer;
      try {
        readFileSync(obj);
        content = spawnSync('lz4', ['-dc', obj], { maxBuffer: 1 << 26 }).stdout;
      } catch {
        continue; // chunked content: checked by its size below only
      }
      const original = originals.get(p!)!;
      expect(content.length, `${p} version of size ${sizeText}`).toBe(Number(sizeText));
      expect(original.subarray(0, content.length).equals(content), `${p}: recorded content is not a prefix of the file`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  }, 240_000);
});
