/**
 * Reading objects: bytes from disk, LZ4-decoded (every frame checksum checked),
 * SHA-256-checked against the object's name.
 *
 * No copy that is not needed: the file is read straight into core memory (mmap
 * above a threshold on Linux, a plain read otherwise), decoded there, hashed in
 * place, and copied out once. When several gets are waiting, large objects are
 * decoded on the codec worker threads (codec/codec-pool.ts) and hashed here.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { FrameCodec } from './codec/frame-codec.js';
import type { Hasher } from './hasher.js';
import { withMappedFd } from './mmap.js';
import { objectPath } from './object-path.js';

/** How objects were read. */
export interface ReadCounters {
  /** Objects read through mmap. */
  mmapReads: number;
  /** Objects of at least the mmap threshold that had to be read plainly (mmap unavailable or refused). */
  mmapFallbacks: number;
}

export interface ReadContext {
  root: string;
  codec: FrameCodec;
  hasher: Hasher;
  /** Objects at least this large (on disk) are mmapped where possible (default 1 MiB). */
  mmapThreshold: number;
  /** Read-path counters, shown by `store.stats()`. */
  counters?: ReadCounters;
}

/**
 * The error for content whose SHA-256 is not its name: names the object, both
 * hashes and what to do.
 */
export function integrityError(path: string, expected: string, actual: string, detail?: string): ForgeError {
  return new ForgeError('validation', `Object ${path} is corrupt: expected SHA-256 ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`, {
    context: { file: path, operation: 'get', expected, actual, code: 'EBADMSG' },
    suggestions: ['Run `forge verify` to list every damaged object.', 'Putting the same content again (e.g. re-adding the original file) repairs the object.'],
  });
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
  return decodeChecked(ctx, hash, path, frame.length, verify, (dst) => {
    dst.set(frame);
    return frame.length;
  });
}

/**
 * The content of object `hash` (verified unless `verify` is false), or
 * undefined if the object does not exist. Objects of `mmapThreshold` bytes or
 * more are mmapped (Linux), others read.
 */
export function readObjectSync(ctx: ReadContext, hash: string, verify: boolean): Uint8Array | undefined {
  const path = objectPath(ctx.root, hash);
  const fd = openObject(path);
  if (fd === undefined) return undefined;
  try {
    // A file the peek filled is read on from there, not again from the start.
    return readSmall(ctx, hash, path, fd, verify) ?? readOpen(ctx, hash, path, fd, fstatSync(fd).size, verify, peek);
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw toForgeError(err, { file: path, operation: 'get' });
  } finally {
    closeSync(fd);
  }
}

/** Files shorter than this are read whole by {@link readSmall}. */
const PEEK_BYTES = 16 * 1024;
/** Reused by readSmall: every use is synchronous, so one buffer per thread suffices. */
const peek = Buffer.allocUnsafeSlow(PEEK_BYTES);

/**
 * Most objects are small: one read into a reused buffer gets a whole file
 * without an fstat (a short read of a regular file is its end). Returns the
 * decoded object, or undefined if the file is larger than the buffer.
 */
function readSmall(ctx: ReadContext, hash: string, path: string, fd: number, verify: boolean): Uint8Array | undefined {
  const n = readFully(fd, peek);
  if (n === PEEK_BYTES) return undefined;
  return decodeChecked(ctx, hash, path, n, verify, (dst) => {
    dst.set(peek.subarray(0, n));
    return n;
  });
}

/** Objects whose file is smaller than this are decoded inline even by concurrent gets (a worker round trip costs more). */
export const OFFLOAD_MIN_BYTES = 64 * 1024;

/**
 * {@link readObjectSync}, except that when `concurrent` (other gets are waiting)
 * a large verified object may be decoded and hashed on a decode worker (see
 * FrameCodec.decodeWorkers), so that concurrent gets use more than one core.
 */
export async function readObject(ctx: ReadContext, hash: string, verify: boolean, concurrent: boolean): Promise<Uint8Array | undefined> {
  if (!concurrent || !verify || ctx.hasher.name !== 'node-crypto') return readObjectSync(ctx, hash, verify);
  const path = objectPath(ctx.root, hash);
  const fd = openObject(path);
  if (fd === undefined) return undefined;
  try {
    const small = readSmall(ctx, hash, path, fd, verify);
    if (small !== undefined) return small;
    const size = fstatSync(fd).size;
    const pool = size >= OFFLOAD_MIN_BYTES ? ctx.codec.decodeWorkers(size) : undefined;
    let job = pool?.tryDecode(fd, size, ctx.codec.maxObjectSize);
    if (pool !== undefined && job === undefined) {
      // Every worker is busy (or starting). Gets decoding inline would chain through microtasks
      // and never let the workers' replies in: yield to the event loop once, then try again.
      await new Promise<void>((resolve) => setImmediate(resolve));
      job = pool.tryDecode(fd, size, ctx.codec.maxObjectSize);
    }
    const done = job && (await job);
    if (done?.kind === 'content') {
      // Hashed here while the workers decode the next objects (the worker checked the frame).
      const actual = ctx.hasher.hex(done.content);
      if (actual !== hash) throw integrityError(path, hash, actual);
      return done.content;
    }
    // No worker had room, or the frame did not decode there: here, where errors are reported
    // the one usual way.
    return readOpen(ctx, hash, path, fd, size, verify);
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw toForgeError(err, { file: path, operation: 'get' });
  } finally {
    closeSync(fd);
  }
}

/** Opens an object file; undefined if it does not exist. */
function openObject(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toForgeError(err, { file: path, operation: 'get' });
  }
}

/** Reads and decodes the object open as `fd` (`size` bytes), whose first bytes may already be in `head`. */
function readOpen(ctx: ReadContext, hash: string, path: string, fd: number, size: number, verify: boolean, head?: Uint8Array): Uint8Array {
  return decodeChecked(ctx, hash, path, size, verify, (dst) => {
    if (size >= ctx.mmapThreshold) {
      const r = withMappedFd(fd, size, (bytes) => {
        dst.set(bytes);
        return bytes.length;
      });
      if (r.mapped) {
        if (ctx.counters) ctx.counters.mmapReads++;
        return r.value;
      }
      if (ctx.counters) ctx.counters.mmapFallbacks++;
    }
    if (head === undefined || head.length > dst.length) return readFully(fd, dst);
    dst.set(head);
    return head.length + readFully(fd, dst.subarray(head.length), head.length);
  });
}

/**
 * Decodes the `size`-byte frame that `fill` puts into core memory and, if
 * `verify`, checks the content's SHA-256 against `hash`: a bad frame or a
 * mismatch is the integrity error.
 */
function decodeChecked(ctx: ReadContext, hash: string, path: string, size: number, verify: boolean, fill: (dst: Uint8Array) => number): Uint8Array {
  // node:crypto hashes the content in core memory, before it is copied out; the core's own
  // SHA-256 cannot run while that memory is in use, so it hashes the copy.
  const inPlace = verify && ctx.hasher.name === 'node-crypto';
  let hashed: string | undefined;
  let content: Uint8Array;
  try {
    content = ctx.codec.decompressFrom(size, fill, inPlace ? (view) => (hashed = ctx.hasher.hex(view)) : undefined);
  } catch (err) {
    if (err instanceof ForgeError && err.category === 'validation') {
      throw integrityError(path, hash, 'undecodable', `not a valid LZ4 frame: ${err.message}`);
    }
    throw toForgeError(err, { file: path, operation: 'get' });
  }
  if (verify) {
    const actual = hashed ?? ctx.hasher.hex(content);
    if (actual !== hash) throw integrityError(path, hash, actual);
  }
  return content;
}

/** Fills `dst` from `fd` at `position` (default: the start); returns the bytes read (fewer only at the end of the file). */
export function readFully(fd: number, dst: Uint8Array, position = 0): number {
  let at = 0;
  while (at < dst.length) {
    const n = readSync(fd, dst, at, dst.length - at, position + at);
    if (n === 0) break;
    at += n;
  }
  return at;
}
