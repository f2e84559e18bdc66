/**
 * The crash-consistency loop (test/crash/run.mjs, `npm run test:crash` runs 50 rounds) with a small
 * round count in the normal suite: SIGKILL during scan, watch, gc and restore; after each round the
 * store verifies, every object decodes to its name and every file's newest version equals the file.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, REPO } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';

const tools =
  requireTool('lz4', 'lz4', 'the crash-consistency loop (decodes objects with lz4 -dc)') &&
  requireTool('sqlite3', 'sqlite3', 'the crash-consistency loop (reads the index with sqlite3)');

describe.skipIf(!tools)('crash consistency', () => {
  it('3 rounds of SIGKILL at random points leave a store that verifies and matches the tree', () => {
    assertBuilt();
    const r = spawnSync(process.execPath, [path.join(REPO, 'test/crash/run.mjs'), '--rounds', '3'], { encoding: 'utf8', timeout: 170_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('3/3 rounds passed');
  }, 180_000);
});
