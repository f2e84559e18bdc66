/**
 * Reading one file of a tree that someone else may be changing, without being fooled by it:
 * O_NOFOLLOW (a symlink swapped in after the caller's lstat is refused, never followed),
 * O_NONBLOCK (a FIFO swapped in cannot hang the read), fstat of the descriptor (only a regular
 * file, optionally the dev/ino the caller's walk saw), and a second fstat after the read (a file
 * changed or truncated meanwhile is reported, never stored as a version that did not exist).
 */
import { constants, promises as fsp, type BigIntStats } from 'node:fs';
import { ForgeError, toForgeError } from './errors.js';
import type { FileIdentity } from './platform-io.js';

const SAFE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** The identity of an fstat. */
export function identityOf(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: Number(st.mode) };
}

/** An error for a path that is not (or no longer) the regular file the caller expected. */
export function notRegularError(path: string, what: string, operation: string): ForgeError {
  return new ForgeError('filesystem', `${path} is ${what}, not a regular file; it was not read`, {
    retryable: false,
    context: { file: path, operation, code: 'ENOTREG' },
    suggestions: ['Only regular files are recorded; the path is examined again on its next change.'],
  });
}

/** An error for a file that changed while it was read (or is not the file the walk saw). */
export function changedError(path: string, why: string, operation: string): ForgeError {
  return new ForgeError('filesystem', `${path} changed while it was read (${why}); it was not stored`, {
    retryable: true,
    context: { file: path, operation, code: 'ECHANGED' },
    suggestions: ['Read it again: the next read sees the file as it is then.'],
  });
}

function kindOf(st: BigIntStats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Checks an fstat against the expectations of a safe read; returns the error, if any. */
export function checkOpened(path: string, st: BigIntStats, expect: { dev: bigint; ino: bigint } | undefined, operation: string): ForgeError | undefined {
  if (!st.isFile()) return notRegularError(path, kindOf(st), operation);
  if (expect && (st.dev !== expect.dev || st.ino !== expect.ino)) return changedError(path, 'replaced by another file', operation);
  return undefined;
}

/** True when two fstats of one descriptor say the content may differ. */
export function changedBetween(a: BigIntStats, b: BigIntStats): boolean {
  return a.size !== b.size || a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs;
}

/**
 * Reads the whole regular file at `path` safely (see the file comment). A symlink fails with ELOOP,
 * a non-regular file with code `ENOTREG`, a file changed during the read with code `ECHANGED`.
 */
export async function readFileSafely(
  path: string,
  expect?: { dev: bigint; ino: bigint },
  operation = 'putFile',
): Promise<{ data: Uint8Array; identity: FileIdentity }> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, SAFE_FLAGS);
  } catch (err) {
    throw toForgeError(err, { file: path, operation });
  }
  try {
    const before = await fh.stat({ bigint: true });
    const bad = checkOpened(path, before, expect, operation);
    if (bad) throw bad;
    const data = await fh.readFile();
    const after = await fh.stat({ bigint: true });
    if (changedBetween(before, after) || BigInt(data.length) !== after.size) throw changedError(path, 'size or times moved during the read', operation);
    return { data, identity: identityOf(after) };
  } catch (err) {
    throw err instanceof ForgeError ? err : toForgeError(err, { file: path, operation });
  } finally {
    await fh.close().catch(() => undefined);
  }
}
