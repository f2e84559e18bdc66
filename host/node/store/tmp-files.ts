/**
 * The file-level steps of writing an object, without any policy: unique tmp
 * names, creating a read-only file from a frame (whole or in parts, via writev),
 * the same durably on the libuv threadpool, and directory fsyncs off the event
 * loop. write.ts decides when each runs (group commit).
 */
import { close, closeSync, fchmodSync, fsync, open, openSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { open as openFile, rename, unlink } from 'node:fs/promises';
import { withRetry } from '../base/retry.js';
import { sep } from 'node:path';
import { threadId } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { toForgeError } from '../base/errors.js';
import type { BackendName, WriteOp } from '../base/platform-io.js';
import { OBJECT_FILE_MODE, processUmask } from './format.js';
import { tmpDir } from './object-path.js';

/**
 * An object's bytes on disk: one LZ4 frame, whole or as consecutive parts (a frame joined from
 * block ranges is written with writev rather than copied into one buffer first).
 */
export type Frame = Uint8Array | Uint8Array[];

/** Bytes in a frame. */
export function frameLength(frame: Frame): number {
  if (frame instanceof Uint8Array) return frame.length;
  let n = 0;
  for (const p of frame) n += p.length;
  return n;
}

/** A frame as one buffer (copies only when it is in parts). */
export function joinFrame(frame: Frame): Uint8Array {
  if (frame instanceof Uint8Array) return frame;
  if (frame.length === 1) return frame[0]!;
  const out = new Uint8Array(frameLength(frame));
  let at = 0;
  for (const p of frame) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let tmpCounter = 0;
// Random once per thread: pid + thread + counter are unique among live writers, and the
// random part keeps a reused pid (after a crash) from meeting its predecessor's leftovers.
const tmpPrefix = `${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;

/** A tmp file name no other writer (process, thread) can pick. */
export function tmpName(root: string, hash: string): string {
  return tmpNameIn(`${tmpDir(root)}${sep}`, hash);
}

/** {@link tmpName} under `base` (`<root>/objects/tmp/`, built once by the caller). */
export function tmpNameIn(base: string, hash: string): string {
  return `${base}${hash.slice(0, 12)}-${tmpPrefix}-${++tmpCounter}`;
}

function dirSyncError(err: unknown): boolean {
  // Some filesystems refuse fsync on directories (EINVAL): nothing more can be done there.
  const code = (err as NodeJS.ErrnoException).code;
  return code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF';
}

/** fsync a file descriptor on the libuv threadpool. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync a directory so a rename into it is durable, on the libuv threadpool: the event loop keeps running meanwhile. */
export function fsyncDirAsync(dir: string): Promise<void> {
  return new Promise<number>((resolve, reject) => open(dir, 'r', (err, fd) => (err ? reject(err) : resolve(fd))))
    .then((fd) => fsyncFd(fd).finally(() => new Promise<void>((resolve) => close(fd, () => resolve()))))
    .catch((err: unknown) => {
      if (dirSyncError(err)) throw toForgeError(err, { file: dir, operation: 'fsync dir' });
    });
}

/**
 * Whether the umask removes owner read from OBJECT_FILE_MODE (0o400), so that a file created with
 * it could not be read by its owner: then every object gets an explicit chmod after it is created
 * (fchmod ignores the umask). Otherwise the mode given at creation is the object's mode already
 * (the umask only removes bits; 0o400 minus group/other bits is 0o400) and no chmod is needed.
 * Where the umask cannot be read ({@link processUmask}), assumed, so the chmod stays.
 *
 * @example
 * ```ts
 * if (umaskStripsOwnerRead()) await chmod(tmp, OBJECT_FILE_MODE);
 * ```
 */
export function umaskStripsOwnerRead(): boolean {
  const umask = processUmask();
  return umask === undefined || (umask & OBJECT_FILE_MODE) !== 0;
}

/**
 * The batchWrite ops of tmp files, and which of them need a chmod to 0400 afterwards. Created
 * 0400 already (WriteOp.mode) unless the umask takes owner read away or IOCP ignores the mode;
 * an O_DIRECT object is created writable (its tail needs a second open) and chmodded after.
 */
export function objectWriteOps(
  tmps: readonly string[],
  data: readonly Uint8Array[],
  objects: readonly { direct: boolean }[],
  sync: boolean,
  backend: BackendName,
): { ops: WriteOp[]; chmodAfter: boolean[] } {
  const all = umaskStripsOwnerRead() || backend === 'iocp';
  const chmodAfter = objects.map((o) => all || o.direct);
  const ops = tmps.map((path, i) => ({ path, data: data[i]!, sync, direct: objects[i]!.direct, mode: chmodAfter[i] ? undefined : OBJECT_FILE_MODE }));
  return { ops, chmodAfter };
}

/** Creates the file `path` (owner read-only, must not exist) holding `data`; returns its open fd. */
export function createFile(path: string, data: Frame): number {
  const fd = openSync(path, 'wx', OBJECT_FILE_MODE);
  try {
    if (umaskStripsOwnerRead()) fchmodSync(fd, OBJECT_FILE_MODE);
    if (data instanceof Uint8Array) {
      let at = 0;
      while (at < data.length) at += writeSync(fd, data, at, data.length - at);
    } else {
      writeAllParts(fd, data);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** writev until every part is written (a short write resumes inside the part it stopped in). */
function writeAllParts(fd: number, parts: Uint8Array[]): void {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let n = writevSync(fd, rest);
    let k = 0;
    while (k < rest.length && n >= rest[k]!.length) n -= rest[k++]!.length;
    rest = rest.slice(k);
    if (n > 0) rest[0] = rest[0]!.subarray(n);
  }
}

/**
 * {@link createFile} + fsync + close, all on the libuv threadpool. The file is removed on failure.
 * `sync: false` leaves out the fsync (a batched flush makes the file durable later).
 */
export async function createFileDurably(path: string, data: Frame, sync = true): Promise<void> {
  const fh = await openFile(path, 'wx', OBJECT_FILE_MODE);
  try {
    // One buffer (writeFile loops over short writes); joining parts costs little next to the fsync.
    await fh.writeFile(joinFrame(data));
    if (umaskStripsOwnerRead()) await fh.chmod(OBJECT_FILE_MODE);
    if (sync) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
}

/** Writes `data` to a new file at `path`, fsyncing it if asked; when syncing, all of it runs on the libuv threadpool. */
export async function writeFileDurablyAsync(path: string, data: Uint8Array, sync: boolean): Promise<void> {
  if (sync) return createFileDurably(path, data);
  closeSync(createFile(path, data));
}

export function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * rename(2) on the threadpool, retried with backoff on transient errors (EBUSY, EAGAIN, EINTR,
 * …: base/retry.ts); anything else (ENOENT, EXDEV) fails at once, as a ForgeError with its code.
 */
export function renameRetrying(from: string, to: string): Promise<void> {
  return withRetry(
    () =>
      rename(from, to).catch((err: unknown) => {
        throw toForgeError(err, { file: to, operation: 'store rename' });
      }),
    { operation: 'store rename' },
  );
}

/** {@link createFileDurably}, retried with backoff on transient errors (the file is removed after each failure). */
export function createFileDurablyRetrying(path: string, data: Frame, sync = true): Promise<void> {
  return withRetry(
    () =>
      createFileDurably(path, data, sync).catch((err: unknown) => {
        throw toForgeError(err, { file: path, operation: 'store write' });
      }),
    { operation: 'store write' },
  );
}
