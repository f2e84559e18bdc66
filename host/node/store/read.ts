/**
 * Reading objects: bytes from disk (mmap above a threshold on Linux, a plain
 * read otherwise), LZ4-decoded, SHA-256-checked against the object's name.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ForgeError, toForgeError } from '../errors.js';
import type { FrameCodec } from './frame-codec.js';
import type { Hasher } from './hasher.js';
import { withMappedFd } from './mmap.js';
import { objectPath } from './object-path.js';

export interface ReadContext {
  root: string;
  codec: FrameCodec;
  hasher: Hasher;
  /** Objects at least this large (on disk) are mmapped where possible (default 1 MiB). */
  mmapThreshold: number;
}

/**
 * The error for content whose SHA-256 is not its name: names the object, both
 * hashes and what to do.
 */
export function integrityError(path: string, expected: string, actual: string, detail?: string): ForgeError {
  return new ForgeError(
    'validation',
    `Object ${path} is corrupt: expected SHA-256 ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`,
    {
      context: { file: path, operation: 'get', expected, actual, code: 'EBADMSG' },
      suggestions: [
        'Run `forge verify` to list every damaged object.',
        'Putting the same content again (e.g. re-adding the original file) repairs the object.',
      ],
    },
  );
}

/** The error for an object that is not in the store. */
export function notFoundError(root: string, hash: string, operation = 'get'): ForgeError {
  return new ForgeError('filesystem', `Object ${hash} is not in the store at ${root}`, {
    context: { file: objectPath(root, hash), operation, hash, code: 'ENOENT' },
    suggestions: [
      'Check the hash (e.g. from `forge log`), or that the store directory is the right one.',
      'Run `forge verify` to find objects the index refers to but the store lacks.',
    ],
  });
}

/** Decodes one frame and, if `verify`, checks its SHA-256 against `hash`. */
export function decodeObject(ctx: ReadContext, hash: string, path: string, frame: Uint8Array, verify: boolean): Uint8Array {
  let content: Uint8Array;
  try {
    content = ctx.codec.decompress(frame);
  } catch (err) {
    if (err instanceof ForgeError && err.category === 'validation') {
      throw integrityError(path, hash, 'undecodable', `not a valid LZ4 frame: ${err.message}`);
    }
    throw toForgeError(err, { file: path, operation: 'get' });
  }
  if (verify) {
    const actual = ctx.hasher.hex(content);
    if (actual !== hash) throw integrityError(path, hash, actual);
  }
  return content;
}

/**
 * The content of object `hash` (verified unless `verify` is false), or
 * undefined if the object does not exist. Objects of `mmapThreshold` bytes or
 * more are mmapped (Linux), others read.
 */
export function readObjectSync(ctx: ReadContext, hash: string, verify: boolean): Uint8Array | undefined {
  const path = objectPath(ctx.root, hash);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toForgeError(err, { file: path, operation: 'get' });
  }
  try {
    const size = fstatSync(fd).size;
    if (size >= ctx.mmapThreshold) {
      const r = withMappedFd(fd, size, (bytes) => decodeObject(ctx, hash, path, bytes, verify));
      if (r.mapped) return r.value;
    }
    return decodeObject(ctx, hash, path, readWhole(fd, size), verify);
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw toForgeError(err, { file: path, operation: 'get' });
  } finally {
    closeSync(fd);
  }
}

/** Reads `size` bytes from the start of `fd` (objects never change size once named). */
export function readWhole(fd: number, size: number): Uint8Array {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const n = readSync(fd, buf, at, size - at, at);
    if (n === 0) break;
    at += n;
  }
  return at === size ? buf : buf.subarray(0, at);
}
