/**
 * The kqueue backend (macOS): PlatformIO with file I/O through pread/pwrite
 * called as koffi async calls (on koffi's worker threads, so the event loop
 * never blocks), fsync for `sync`, and watching through kqueue EVFILT_VNODE
 * (kqueue-watcher.ts). Libraries and open flags come from kqueue-lib.ts, so
 * the same code runs against libkqueue on Linux (FORGE_KQUEUE_LIB) for testing.
 *
 * Loaded by the selector (host/node/io/select.ts) with a dynamic import on darwin only.
 */
import * as fs from 'node:fs';
import { ForgeError } from '../../node/base/errors.js';
import type { FileIdentity, PlatformIO } from '../../node/base/platform-io.js';
import { identityOf } from '../../node/base/safe-read.js';
import { ResourceManager, type IoLogger } from '../../node/base/resources.js';
import { kqueueLibSpec, loadKqueueLib, type KqueueLib, type KqueueLibSpec } from './kqueue-lib.js';
import { KqueueWatchSource } from './kqueue-watcher.js';
import {
  PositionalBackend,
  checkMaxInFlight,
  type NativeMem,
  type OpenMode,
  type PositionalDriver,
  type PositionalFile,
} from '../shared/positional-backend.js';
import { errnoError } from './posix-errors.js';

export interface KqueueBackendOptions {
  /** Handle budget shared with the rest of Forge; one is created (maxHandles) when absent. */
  resources?: ResourceManager;
  /** Budget of the ResourceManager created when `resources` is absent (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
  /** Files of one batch in flight at once (default 64), bounding native buffer memory. */
  maxInFlight?: number;
  /**
   * Run off macOS against the libraries in `lib` (tests on Linux: libc, plus
   * libkqueue via FORGE_KQUEUE_LIB for watching). Default: only on darwin.
   */
  lib?: KqueueLibSpec;
}

/** pread/pwrite lengths are capped so one call never holds a worker for long. */
const MAX_TRANSFER = 16 * 1024 * 1024;

class PosixFileHandle implements PositionalFile {
  private closed = false;
  constructor(
    private readonly lib: KqueueLib,
    private readonly fd: number,
    readonly path: string,
  ) {}

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  identity(): FileIdentity {
    return identityOf(fs.fstatSync(this.fd, { bigint: true }));
  }

  private call(op: 'pread' | 'pwrite', mem: NativeMem, memOffset: number, fileOffset: number, length: number): Promise<number> {
    if (memOffset + length > mem.size) return Promise.reject(new RangeError(`${op}: ${length} bytes at ${memOffset} exceed the ${mem.size}-byte buffer`));
    const f = this.lib.file;
    return new Promise((resolve, reject) => {
      const done = (err: unknown, n: number): void => {
        if (err) return reject(err);
        if (n >= 0) return resolve(n);
        // errno stayed on koffi's worker thread: repeat the call synchronously to learn it
        // (the failures that matter here, EBADF/EISDIR/EIO/EFBIG/ENOSPC, repeat).
        const again =
          op === 'pread'
            ? f.pread(this.fd, mem.ptr + BigInt(memOffset), length, fileOffset)
            : f.pwrite(this.fd, mem.ptr + BigInt(memOffset), length, fileOffset);
        if (again >= 0) resolve(again);
        else reject(errnoError(f.errno(), op, this.path));
      };
      if (op === 'pread') f.preadAsync(this.fd, mem.ptr + BigInt(memOffset), length, fileOffset, done);
      else f.pwriteAsync(this.fd, mem.ptr + BigInt(memOffset), length, fileOffset, done);
    });
  }

  readAt(dst: NativeMem, dstOffset: number, fileOffset: number, length: number): Promise<number> {
    return this.call('pread', dst, dstOffset, fileOffset, length);
  }

  writeAt(src: NativeMem, srcOffset: number, fileOffset: number, length: number): Promise<number> {
    return this.call('pwrite', src, srcOffset, fileOffset, length);
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.lib.file.fsyncAsync(this.fd, (err, r) => {
        if (err) reject(err);
        else if (r !== 0)
          reject(new ForgeError('filesystem', `fsync failed (${this.path})`, { context: { operation: 'fsync', file: this.path, backend: 'kqueue' } }));
        else resolve();
      }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.file.close(this.fd);
  }
}

/**
 * Creates the kqueue backend. Throws a `dependency` ForgeError off macOS
 * (unless `options.lib` names libraries to use) or when libc cannot be loaded.
 *
 * @example
 * ```ts
 * // Normally through createPlatformIO(), which picks it on macOS:
 * const io = await createPlatformIO();          // io.backend === 'kqueue'
 * await io.batchWrite([{ path: '/tmp/a.txt', data: new TextEncoder().encode('hi'), sync: true }]);
 * await io.close();
 * ```
 */
export async function createKqueueBackend(options: KqueueBackendOptions = {}): Promise<PlatformIO> {
  if (process.platform !== 'darwin' && options.lib === undefined) {
    throw new ForgeError('dependency', `the kqueue backend runs on macOS only (this is ${process.platform})`, {
      context: { operation: 'createKqueueBackend', backend: 'kqueue' },
      suggestions: ['Use createPlatformIO(), which picks the backend for this platform.'],
    });
  }
  let lib: KqueueLib;
  try {
    lib = loadKqueueLib(options.lib ?? kqueueLibSpec());
  } catch (err) {
    throw new ForgeError('dependency', 'the kqueue backend could not load its C library through koffi', {
      cause: err,
      context: { operation: 'createKqueueBackend', backend: 'kqueue' },
    });
  }
  const maxInFlight = checkMaxInFlight(options.maxInFlight, 'kqueue');
  const resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles ?? 1024, ...(options.logger ? { logger: options.logger } : {}) });
  const flags = lib.spec.flags;
  const modeFlags: Record<OpenMode, number> = {
    read: flags.O_RDONLY,
    write: flags.O_RDWR | flags.O_CREAT,
    replace: flags.O_RDWR | flags.O_CREAT | flags.O_TRUNC,
    'read-safe': flags.O_RDONLY | flags.O_NOFOLLOW | flags.O_NONBLOCK,
  };
  const driver: PositionalDriver = {
    backend: 'kqueue',
    maxTransfer: MAX_TRANSFER,
    open: (abs, display, mode, createMode) => {
      // createMode: WriteOp.mode of a created file, before the umask (open(2)'s default here 0o666).
      const fd = lib.file.open(abs, modeFlags[mode] | flags.O_CLOEXEC, (createMode ?? 0o666) & 0o7777);
      if (fd < 0) throw errnoError(lib.file.errno(), 'open', display);
      if (mode === 'read' && fs.fstatSync(fd).isDirectory()) {
        lib.file.close(fd);
        throw errnoError(21, 'read', display); // EISDIR, as read(2) would say
      }
      return new PosixFileHandle(lib, fd, display);
    },
    alloc: (size) => lib.alloc(size),
  };
  return new PositionalBackend(driver, {
    resources,
    ownsResources: options.resources === undefined,
    maxInFlight,
    ...(options.logger ? { logger: options.logger } : {}),
    watchSource: (root, resolved) => new KqueueWatchSource(lib, root, resolved, resources),
    closeDriver: async () => undefined,
  });
}
