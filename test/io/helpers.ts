/** Shared helpers for the platform I/O tests: temp dirs, backend factories, fd/mapping counts. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFallbackBackend } from '../../host/node/io/fallback-backend.js';
import { createIoUringBackend, type IoUringBackendOptions } from '../../host/native/linux/io-uring-backend.js';
import type { PlatformIO } from '../../host/node/base/platform-io.js';
import { ResourceManager } from '../../host/node/base/resources.js';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `forge-io-${tag}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A backend under test, with the handle budget it draws from. */
export interface BackendCase {
  name: string;
  make(resources?: ResourceManager): PlatformIO;
}

/**
 * Every backend that runs on this machine. The io_uring variants without the
 * small-batch sync path, and with a tiny
 * size hint and tiny chunks push small files through the STATX + continuation
 * path and through many io_uring_enter calls, so 100 quick runs still cover them.
 */
export const BACKENDS: BackendCase[] = [
  { name: 'fallback', make: (resources) => createFallbackBackend({ resources }) },
  { name: 'io_uring', make: (resources) => createIoUringBackend({ resources }) },
  // no small-batch shortcut: every read goes through the ring
  { name: 'io_uring(ring only)', make: (resources) => createIoUringBackend({ resources, smallBatchSync: 0 }) },
  {
    name: 'io_uring(sizeHint=16,chunk=3)',
    make: (resources) => createIoUringBackend({ resources, sizeHint: 16, chunkFiles: 3, chunkBytes: 64, smallBatchSync: 0 } satisfies IoUringBackendOptions),
  },
];

export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Lines of /proc/self/maps that map an io_uring (the ring and SQE regions show as anon_inode:[io_uring]). */
export function ioUringMappings(): number {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes('io_uring')).length;
}

/** Targets of /proc/self/fd entries that are io_uring instances. */
export function ioUringFds(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring')) n++;
    } catch {
      // the fd of readdir itself is gone by now
    }
  }
  return n;
}

/**
 * Child processes run the compiled dist/ (vitest compiles only in-process imports).
 * Rebuilds when any source under host/ is newer than its output.
 */
export function ensureDist(): void {
  const sources = (fs.readdirSync('host', { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join('host', f));
  const stale = sources.some((src) => {
    const out = path.join('dist', src.replace(/\.ts$/, '.js'));
    return !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs;
  });
  if (!stale) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  } catch {
    // tsc exits non-zero when any file of the tree has a type error, but still emits.
  }
}
