/**
 * Restoring and catting a large file streams it: the content is never held whole, so memory stays
 * far below the file's size (measured by GNU time around the real CLI in a child process).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/reference-tools.js';
import { assertBuilt, FORGE } from './helpers.js';

const gnuTime = requireTool('/usr/bin/time', 'time', 'peak memory of a large restore (GNU time)');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-large-restore-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const SIZE = 400 * 1024 * 1024;

/** Runs forge under GNU time; returns its exit status, stdout and peak RSS in bytes. */
function timed(args: string[]): { status: number | null; stdout: Buffer; rss: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, FORGE, ...args], { cwd: root, maxBuffer: 2 * SIZE, timeout: 600_000 });
  const m = /maxrss=(\d+)/.exec(r.stderr.toString());
  return { status: r.status, stdout: r.stdout, rss: Number(m?.[1] ?? 0) * 1024 };
}

describe.skipIf(!gnuTime)('large files', () => {
  it('restore and cat of a 400 MiB file stream it, with peak memory well under its size', () => {
    assertBuilt();
    const fd = fs.openSync(path.join(root, 'big.bin'), 'w');
    const block = Buffer.alloc(8 * 1024 * 1024);
    const hash = createHash('sha256');
    for (let off = 0; off < SIZE; off += block.length) {
      randomFillSync(block);
      fs.writeSync(fd, block);
      hash.update(block);
    }
    fs.closeSync(fd);
    const want = hash.digest('hex');
    expect(spawnSync(process.execPath, [FORGE, 'watch', '--once', '.'], { cwd: root, timeout: 600_000 }).status).toBe(0);
    const restored = timed(['restore', 'big.bin', '--to', path.join(root, 'out.bin')]);
    expect(restored.status).toBe(0);
    expect(
      createHash('sha256')
        .update(fs.readFileSync(path.join(root, 'out.bin')))
        .digest('hex'),
    ).toBe(want);
    expect(restored.rss).toBeLessThan(SIZE / 2);
    const cat = timed(['cat', 'big.bin@1']);
    expect(cat.status).toBe(0);
    expect(createHash('sha256').update(cat.stdout).digest('hex')).toBe(want);
    expect(cat.rss).toBeLessThan(SIZE / 2);
  }, 900_000);
});
