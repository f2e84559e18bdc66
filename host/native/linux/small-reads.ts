/**
 * Reads of a file or two on this thread (open/fstat/read/close), for batches too small to pay for a
 * ring round trip. Each returns undefined when the ring should do the read after all (no free handle
 * in the budget, not a regular file, larger than the limit), so the ring path stays the one that
 * reports every other case.
 */
import fs from 'node:fs';
import { toForgeError } from '../../node/base/errors.js';
import type { ResourceManager } from '../../node/base/resources.js';
import { changedBetween, identityOf } from '../../node/base/safe-read.js';
import type { Outcome } from './sqe-chains.js';
import type { SafeRead } from './safe-read-task.js';

const SAFE_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** Reads `size` bytes from `fd` at offset 0 (fewer at EOF). */
function readFd(fd: number, size: number, extra: number): Buffer {
  const buf = Buffer.allocUnsafe(size + extra);
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}

/**
 * A small regular file, read like readFileSync (the size fstat reported), or undefined for the ring.
 *
 * @example
 * ```ts
 * const o = readSmallPlain('/etc/hostname', resources, 64 * 1024, 'readAll');
 * if (o?.ok) console.log(o.value.length);
 * ```
 */
export function readSmallPlain(path: string, resources: ResourceManager, maxBytes: number, operation: string): Outcome<Uint8Array> | undefined {
  const guard = resources.tryAcquire(1);
  if (!guard) return undefined;
  let fd = -1;
  try {
    fd = fs.openSync(path, 'r');
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return { ok: true, value: readFd(fd, st.size, 0) };
  } catch (e) {
    return { ok: false, error: toForgeError(e, { file: path, operation, backend: 'io_uring' }) };
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    guard.release();
  }
}

/**
 * The safe read of a small file on this thread: O_NOFOLLOW|O_NONBLOCK, fstat of the fd before and
 * after, one byte more than the size. Anything but a small regular file that stayed still (a
 * symlink, a FIFO, a change during the read, an error) is left to the ring's safe read, which
 * reports it, so both paths fail the same way.
 */
export function readSmallSafely(path: string, resources: ResourceManager, maxBytes: number): Outcome<SafeRead> | undefined {
  const guard = resources.tryAcquire(1);
  if (!guard) return undefined;
  let fd = -1;
  try {
    fd = fs.openSync(path, SAFE_FLAGS);
    const before = fs.fstatSync(fd, { bigint: true });
    if (!before.isFile() || before.size > BigInt(maxBytes)) return undefined;
    const data = readFd(fd, Number(before.size), 1);
    const after = fs.fstatSync(fd, { bigint: true });
    if (changedBetween(before, after) || BigInt(data.length) !== before.size) return undefined;
    return { ok: true, value: { data, identity: identityOf(after) } };
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    guard.release();
  }
}
