/**
 * PlatformIO over any "open a file, then read/write at offsets" driver: the
 * part the IOCP backend (overlapped ReadFile/WriteFile) and the kqueue backend
 * (pread/pwrite) share. The driver owns the native calls; this owns argument
 * validation, the handle budget, batches with bounded concurrency, short
 * reads/writes, files that grow while read, per-slot errors and close().
 */
import * as path from 'node:path';
import { ForgeError, toForgeError } from '../../node/base/errors.js';
import type { BackendName, BatchReadOptions, FileIdentity, PlatformIO, ReadResult, WatchOptions, WriteOp, WriteResult } from '../../node/base/platform-io.js';
import {
  WatchSet,
  resolveWatchOptions,
  type ManagedWatchHandle,
  type ResolvedWatchOptions,
  type WatchSource,
  type WatchSourceProvider,
} from '../../node/watch/handle.js';
import type { IoLogger, ResourceManager } from '../../node/base/resources.js';
import { changedError, notRegularError } from '../../node/base/safe-read.js';
import { modeProblem } from '../../node/base/validate.js';
import { retryIo } from './io-retry.js';
import { identityMoved, isRegularMode, kindOfMode, S_IFLNK, S_IFMT } from './file-identity.js';

/**
 * read: existing file; write: open or create, keep contents; replace: create or truncate;
 * read-safe: existing file, the last component not followed if it is a link (O_NOFOLLOW, or
 * FILE_FLAG_OPEN_REPARSE_POINT), and opening a FIFO does not block (O_NONBLOCK).
 */
export type OpenMode = 'read' | 'write' | 'replace' | 'read-safe';

/** A block of native memory the driver's calls read from or write into. */
export interface NativeMem {
  readonly ptr: bigint;
  readonly size: number;
  readonly bytes: Uint8Array;
  free(): void;
}

/** One open file of a driver. */
export interface PositionalFile {
  readonly path: string;
  size(): number;
  /** Up to `length` bytes into `dst` at `dstOffset`; 0 at end of file. */
  readAt(dst: NativeMem, dstOffset: number, fileOffset: number, length: number): Promise<number>;
  writeAt(src: NativeMem, srcOffset: number, fileOffset: number, length: number): Promise<number>;
  /** Data and metadata on disk (FlushFileBuffers, fsync). */
  flush(): Promise<void>;
  /** The opened file's identity (fstat, GetFileInformationByHandle); needed for 'read-safe'. */
  identity?(): FileIdentity;
  /** Cancels this file's pending I/O (CancelIoEx), if the platform can; the ops then reject. */
  cancel?(): void;
  close(): void;
}

export interface PositionalDriver {
  readonly backend: BackendName;
  /**
   * `absPath` is absolute; `displayPath` is what errors name. `createMode`: permission bits of a
   * file 'write'/'replace' creates (WriteOp.mode, before the umask); a driver without POSIX modes ignores it.
   */
  open(absPath: string, displayPath: string, mode: OpenMode, createMode?: number): PositionalFile;
  alloc(size: number): NativeMem;
  /** Largest single transfer the driver accepts. */
  readonly maxTransfer: number;
}

export interface PositionalBackendOptions {
  resources: ResourceManager;
  /** Shut `resources` down on close (it was created for this backend). */
  ownsResources: boolean;
  /** Files of one batch in flight at once (bounds native buffer memory). */
  maxInFlight: number;
  logger?: IoLogger;
  /** The backend's watcher (kqueue, ReadDirectoryChangesW), not yet started. */
  watchSource(root: string, options: ResolvedWatchOptions): WatchSource;
  /** Releases the driver's own resources (port, kqueue) after all I/O finished. */
  closeDriver(): Promise<void>;
}

/** How long close() lets in-flight operations finish before cancelling them. */
export const CLOSE_GRACE_MS = 1000;

/** Runs `fn` over `items` with at most `limit` running; results in input order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Checks `maxInFlight`; a bad value is a configuration ForgeError. */
export function checkMaxInFlight(value: number | undefined, backend: BackendName): number {
  const n = value ?? 64;
  if (!Number.isInteger(n) || n < 1) {
    throw new ForgeError('configuration', `maxInFlight must be an integer >= 1, got ${String(n)}`, {
      context: { operation: 'createPlatformIO', backend, field: 'maxInFlight' },
      suggestions: ['Pass maxInFlight as a positive integer (default 64).'],
    });
  }
  return n;
}

export class PositionalBackend implements PlatformIO, WatchSourceProvider {
  private closed = false;
  private readonly watches = new WatchSet();
  private inFlightOps = 0;
  private idle: (() => void) | undefined;
  private readonly openFiles = new Set<PositionalFile>();

  constructor(
    private readonly driver: PositionalDriver,
    private readonly opts: PositionalBackendOptions,
  ) {}

  get backend(): BackendName {
    return this.driver.backend;
  }

  private invalid(operation: string, file: string | undefined, message: string): ForgeError {
    return new ForgeError('validation', `${operation}: ${message}`, {
      context: { operation, backend: this.backend, ...(file !== undefined ? { file } : {}) },
      suggestions: ['Pass a non-empty path string, a Uint8Array of data, and non-negative integer offsets/lengths.'],
    });
  }

  /** Opens `p`, runs `fn`, closes; holds one handle of the budget meanwhile. */
  private async withFile<T>(p: string, mode: OpenMode, operation: string, fn: (f: PositionalFile) => Promise<T>, createMode?: number): Promise<T> {
    if (this.closed)
      throw new ForgeError('unknown', `${operation}: the ${this.backend} backend is closed`, {
        context: { operation, backend: this.backend, file: String(p) },
      });
    if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) throw this.invalid(operation, String(p), 'path must be a non-empty string without NUL');
    const guard = await this.opts.resources.acquire();
    this.inFlightOps++;
    const t0 = Date.now();
    try {
      // Transient failures (EMFILE from fds outside the budget, EAGAIN, EBUSY: a sharing violation) are retried.
      return await retryIo(
        async () => {
          const f = this.driver.open(path.resolve(p), p, mode, createMode);
          this.openFiles.add(f);
          try {
            return await fn(f);
          } finally {
            this.openFiles.delete(f);
            f.close();
          }
        },
        operation,
        { file: p, backend: this.backend },
      );
    } catch (err) {
      throw toForgeError(err, { operation, file: p, backend: this.backend });
    } finally {
      guard.release();
      this.opts.logger?.debug({ op: operation, backend: this.backend, file: p, ms: Date.now() - t0 }, 'io');
      if (--this.inFlightOps === 0) this.idle?.();
    }
  }

  /** Reads until `length` bytes or end of file into one native block, then copies out. */
  private async readRange(f: PositionalFile, offset: number, length: number): Promise<Uint8Array> {
    const mem = this.driver.alloc(length);
    try {
      let got = 0;
      while (got < length) {
        const n = await f.readAt(mem, got, offset + got, Math.min(length - got, this.driver.maxTransfer));
        if (n === 0) break; // end of file
        got += n;
      }
      return mem.bytes.slice(0, got);
    } finally {
      mem.free();
    }
  }

  private async writeRange(f: PositionalFile, data: Uint8Array, offset: number): Promise<number> {
    if (data.byteLength === 0) return 0;
    const mem = this.driver.alloc(data.byteLength);
    try {
      mem.bytes.set(data);
      let done = 0;
      while (done < data.byteLength) {
        const n = await f.writeAt(mem, done, offset + done, Math.min(data.byteLength - done, this.driver.maxTransfer));
        if (n <= 0) {
          throw new ForgeError('filesystem', `write made no progress at offset ${offset + done}`, {
            context: { operation: 'write', file: f.path, backend: this.backend, code: 'EIO' },
          });
        }
        done += n;
      }
      return done;
    } finally {
      mem.free();
    }
  }

  async read(p: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw this.invalid('read', p, `offset must be a non-negative integer, got ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw this.invalid('read', p, `length must be a non-negative integer, got ${length}`);
    return this.withFile(p, 'read', 'read', (f) => this.readRange(f, offset, length));
  }

  async write(p: string, data: Uint8Array, offset = 0): Promise<number> {
    if (!(data instanceof Uint8Array)) throw this.invalid('write', p, 'data must be a Uint8Array');
    if (!Number.isSafeInteger(offset) || offset < 0) throw this.invalid('write', p, `offset must be a non-negative integer, got ${offset}`);
    return this.withFile(p, 'write', 'write', (f) => this.writeRange(f, data, offset));
  }

  async readAll(p: string): Promise<Uint8Array> {
    return this.withFile(p, 'read', 'readAll', async (f) => {
      const size = f.size();
      const first = await this.readRange(f, 0, size);
      if (first.byteLength < size) return first; // shrank meanwhile
      // The file may have grown since its size was taken: read on to the end.
      const parts: Uint8Array[] = [first];
      let at = size;
      for (;;) {
        const more = await this.readRange(f, at, Math.min(this.driver.maxTransfer, Math.max(65536, at)));
        if (more.byteLength === 0) break;
        parts.push(more);
        at += more.byteLength;
      }
      if (parts.length === 1) return first;
      const out = new Uint8Array(at);
      let o = 0;
      for (const part of parts) {
        out.set(part, o);
        o += part.byteLength;
      }
      return out;
    });
  }

  async writeAll(p: string, data: Uint8Array, options?: { sync?: boolean; mode?: number }): Promise<void> {
    if (!(data instanceof Uint8Array)) throw this.invalid('writeAll', p, 'data must be a Uint8Array');
    // One open for the whole content, so a created mode without owner write (0o400) still works.
    await this.withFile(
      p,
      'replace',
      'writeAll',
      async (f) => {
        await this.writeRange(f, data, 0);
        if (options?.sync) await f.flush();
      },
      options?.mode,
    );
  }

  /**
   * The safe read of one file: opened without following a last-component link and without
   * blocking on a FIFO, identity before and after, one byte more than the size read.
   */
  private readSafely(p: string): Promise<{ data: Uint8Array; identity: FileIdentity }> {
    const op = 'batchRead';
    return this.withFile(p, 'read-safe', op, async (f) => {
      if (!f.identity)
        throw new ForgeError('dependency', `safe reads are not supported by the ${this.backend} driver`, {
          context: { operation: op, backend: this.backend, file: p },
        });
      const before = f.identity();
      if ((before.mode & S_IFMT) === S_IFLNK) {
        throw new ForgeError('filesystem', `${p} is a symbolic link; it was not followed`, {
          context: { operation: op, backend: this.backend, file: p, code: 'ELOOP' },
        });
      }
      if (!isRegularMode(before.mode)) throw notRegularError(p, kindOfMode(before.mode), op);
      const data = await this.readRange(f, 0, Number(before.size) + 1);
      const after = f.identity();
      if (BigInt(data.byteLength) !== before.size || identityMoved(before, after)) throw changedError(p, 'size or times moved during the read', op);
      return { data, identity: after };
    });
  }

  async batchRead(paths: readonly string[], options: BatchReadOptions = {}): Promise<ReadResult[]> {
    if (!Array.isArray(paths)) throw this.invalid('batchRead', undefined, 'paths must be an array of strings');
    const safe = options.safe === true;
    return mapLimited(paths, this.opts.maxInFlight, async (p): Promise<ReadResult> => {
      try {
        if (safe) return { ok: true, ...(await this.readSafely(p)) };
        return { ok: true, data: await this.readAll(p) };
      } catch (err) {
        // open(2) of a socket is ENXIO: for a safe read, that is a file that is not regular.
        if (safe && err instanceof ForgeError && err.context.code === 'ENXIO')
          return { ok: false, error: notRegularError(String(p), 'a socket or device', 'batchRead') };
        return { ok: false, error: toForgeError(err, { operation: 'batchRead', file: String(p), backend: this.backend }) };
      }
    });
  }

  async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
    if (!Array.isArray(ops)) throw this.invalid('batchWrite', undefined, 'ops must be an array of { path, data, sync? }');
    return mapLimited(ops, this.opts.maxInFlight, async (op): Promise<WriteResult> => {
      try {
        if (op === null || typeof op !== 'object') throw this.invalid('batchWrite', undefined, 'each op must be { path, data, sync? }');
        const badMode = modeProblem(op.mode, op.path, 'batchWrite', this.backend);
        if (badMode) throw badMode;
        await this.writeAll(op.path, op.data, { sync: op.sync === true, mode: op.mode });
        return { ok: true, bytes: op.data.byteLength };
      } catch (err) {
        return { ok: false, error: toForgeError(err, { operation: 'batchWrite', file: String(op?.path), backend: this.backend }) };
      }
    });
  }

  watch(root: string, options?: WatchOptions): ManagedWatchHandle {
    if (this.closed)
      throw new ForgeError('unknown', `watch: the ${this.backend} backend is closed`, { context: { operation: 'watch', backend: this.backend, file: root } });
    const o = resolveWatchOptions(root, options);
    return this.watches.open(this.createWatchSource(root, o), o);
  }

  createWatchSource(root: string, options: ResolvedWatchOptions): WatchSource {
    return this.opts.watchSource(root, options);
  }

  /** The same as `close()`: `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watches.closeAll();
    if (this.inFlightOps > 0) {
      const idle = new Promise<void>((r) => (this.idle = r));
      // In-flight operations get CLOSE_GRACE_MS to finish; then their I/O is cancelled where the platform can.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), CLOSE_GRACE_MS)));
      if ((await Promise.race([idle, grace])) === 'late') {
        for (const f of this.openFiles) f.cancel?.();
        await idle;
      }
      clearTimeout(timer);
    }
    await this.opts.closeDriver();
    if (this.opts.ownsResources) await this.opts.resources.shutdown(1000);
  }
}
