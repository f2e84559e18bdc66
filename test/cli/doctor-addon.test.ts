/** `forge doctor` tells a missing SQLite addon from a store problem (the addon is made unresolvable in a child process). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, FORGE } from './helpers.js';
import { seedHistory } from './seed.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-doctor-addon-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const HOOK = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'no-sqlite-register.mjs');

describe('doctor', () => {
  it('names the missing SQLite addon and how to rebuild it, and does not blame the store', async () => {
    assertBuilt();
    await seedHistory(root, [{ path: 'a.txt', content: 'a\n', timeMs: Date.now() }]);
    const r = spawnSync(process.execPath, ['--import', HOOK, FORGE, 'doctor'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/sqlite.*the SQLite addon \(better-sqlite3\) does not load/i);
    expect(out).toMatch(/npm rebuild better-sqlite3/);
    expect(out).toMatch(/store.*not checked/i);
    expect(out).not.toMatch(/forge verify|move the store aside/);
    // With the addon present, the same store is healthy.
    const ok = spawnSync(process.execPath, [FORGE, 'doctor'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(ok.stdout + ok.stderr).toMatch(/store.*all verified/);
  });
});
