/** Fixtures for O_DIRECT tests: a disk directory, a ramfs that refuses O_DIRECT, and fincore's page count. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireRoot, requireTool } from '../support/reference-tools.js';

export function fsType(dir: string): string {
  return execFileSync('stat', ['-f', '-c', '%T', dir]).toString().trim();
}

/** A directory on a filesystem that keeps a page cache of its own (not tmpfs/ramfs), so fincore means something. */
export function diskDir(tag: string): string {
  const base = ['tmpfs', 'ramfs'].includes(fsType(os.tmpdir())) ? path.resolve('.forge-test-tmp') : os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `forge-${tag}-`));
}

/** Whether open(O_DIRECT) works in `dir` (overlay and network filesystems may refuse it). */
export function acceptsDirect(dir: string): boolean {
  const p = path.join(dir, '.probe');
  try {
    fs.closeSync(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(p, { force: true });
  }
}

/** Pages of `file` in the page cache, as util-linux's fincore counts them; undefined without fincore. */
export function residentPages(file: string): number | undefined {
  if (!requireTool('fincore', 'util-linux-extra', 'page-cache residency checks of O_DIRECT writes')) return undefined;
  try {
    return Number(execFileSync('fincore', ['--noheadings', '--output', 'PAGES', file]).toString().trim());
  } catch {
    return undefined;
  }
}

/** A ramfs (which has no O_DIRECT) mounted on a fresh directory, or undefined when this user may not mount. */
export function mountRamfs(): { dir: string; unmount(): void } | undefined {
  if (!requireRoot('O_DIRECT fallback checks on a ramfs (mount)')) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-ramfs-'));
  try {
    execFileSync('mount', ['-t', 'ramfs', 'forge-ramfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      fs.rmdirSync(dir);
    },
  };
}

/** Deterministic bytes (xorshift32) that LZ4 cannot shrink: the frame is as large as the content. */
export function noise(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
