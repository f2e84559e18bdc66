/**
 * PlatformIO over `node:fs/promises`: the backend that works everywhere, and
 * the reference the native backends are checked against (Property 3).
 *
 * Every open takes one handle from the ResourceManager first, so a batch of
 * 10,000 paths holds at most `maxHandles` files open and the rest wait FIFO.
 */
import { constants as fsc } from 'node:fs';
import fsp from 'node:fs/promises';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { BackendName, BatchReadOptions, PlatformIO, ReadResult, WatchOptions, WriteOp, WriteResult, FileIdentity } from '../base/platform-io.js';
import { ResourceManager, type IoLogger } from '../base/resources.js';
import { notRegularError, readFileSafely } from '../base/safe-read.js';
import { checkData, checkPath, checkRange, modeProblem } from '../base/validate.js';
import { retryIo } from '../../native/shared/io-retry.js';
import { FsWatchSource } from './fallback-watcher.js';
import {
  WatchSet,
  resolveWatchOptions,
  type ManagedWatchHandle,
  type ResolvedWatchOptions,
  type WatchSource,
  type WatchSourceProvider,
} from '../watch/handle.js';

export interface FallbackBackendOptions {
  /** Shared handle budget; one is created (maxHandles) when absent. */
  resources?: ResourceManager;
  /** Budget for a backend-owned ResourceManager (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
}

/**
 * The portable backend.
 *
 * @example
 * ```ts
 * const io = createFallbackBackend({ maxHandles: 64 });
 * await io.writeAll('out.txt', Buffer.from('hi'), { sync: true });
 * console.log((await io.readAll('out.txt')).length); // 2
 * await io.close();
 * ```
 */
export class FallbackBackend implements PlatformIO, WatchSourceProvider {
  readonly backend: BackendName = 'fallback';
  readonly resources: ResourceManager;
  private readonly ownsResources: boolean;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly watches = new WatchSet();

  constructor(options: FallbackBackendOptions = {}) {
    this.ownsResources = options.resources === undefined;
    this.resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles, logger: options.logger });
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, path, 'fallback');
    return this.withHandle('read', path, async () => {
      const fh = await fsp.open(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got * 2 < length ? Buffer.from(buf.subarray(0, got)) : buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    });
  }

  async write(path: string, data: Uint8Array, offset = 0): Promise<number> {
    checkData(data, path, 'write', 'fallback');
    checkRange(offset, 0, path, 'fallback');
    return this.withHandle('write', path, async () => {
      const fh = await fsp.open(path, fsc.O_WRONLY | fsc.O_CREAT, 0o644);
      try {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
          done += bytesWritten;
        }
        return done;
      } finally {
        await fh.close();
      }
    });
  }

  async readAll(path: string): Promise<Uint8Array> {
    return this.withHandle('readAll', path, () => fsp.readFile(path));
  }

  async writeAll(path: string, data: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    checkData(data, path, 'writeAll', 'fallback');
    await this.withHandle('writeAll', path, () => writeWhole(path, data, options.sync === true));
  }

  async batchRead(paths: readonly string[], options: BatchReadOptions = {}): Promise<ReadResult[]> {
    this.assertOpen('batchRead');
    const safe = options.safe === true;
    return Promise.all(
      paths.map(async (p): Promise<ReadResult> => {
        try {
          checkPath(p, 'batchRead', 'fallback');
          if (safe) return { ok: true, ...(await this.withHandle('batchRead', p, () => readSafely(p))) };
          return { ok: true, data: await this.withHandle('batchRead', p, () => fsp.readFile(p)) };
        } catch (e) {
          return { ok: false, error: wrap(e, p, 'batchRead') };
        }
      }),
    );
  }

  async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
    this.assertOpen('batchWrite');
    return Promise.all(
      ops.map(async (op): Promise<WriteResult> => {
        try {
          checkPath(op?.path, 'batchWrite', 'fallback');
          checkData(op.data, op.path, 'batchWrite', 'fallback');
          const badMode = modeProblem(op.mode, op.path, 'batchWrite', 'fallback');
          if (badMode) throw badMode;
          await this.withHandle('batchWrite', op.path, () => writeWhole(op.path, op.data, op.sync === true, op.mode));
          return { ok: true, bytes: op.data.length };
        } catch (e) {
          return { ok: false, error: wrap(e, op?.path, 'batchWrite') };
        }
      }),
    );
  }

  /** Recursive fs.watch (fallback-watcher.ts). */
  watch(root: string, options?: WatchOptions): ManagedWatchHandle {
    this.assertOpen('watch');
    const o = resolveWatchOptions(root, options);
    return this.watches.open(this.createWatchSource(root, o), o);
  }

  createWatchSource(root: string, options: ResolvedWatchOptions): WatchSource {
    return new FsWatchSource(root, { ignore: options.ignore, followSymlinks: options.followSymlinks });
  }

  /** Closes its watches, waits for operations in flight, then releases the handle budget if this backend owns it. Safe to call twice. */
  /** The same as `close()`: `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.watches.closeAll();
      if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
      if (this.ownsResources) await this.resources.shutdown(0);
    })();
    return this.closing;
  }

  private assertOpen(operation: string): void {
    if (this.closing) {
      throw new ForgeError('unknown', `${operation}: the fallback backend is closed`, {
        context: { operation, backend: 'fallback' },
        suggestions: ['Create a new PlatformIO with createPlatformIO() after close().'],
      });
    }
  }

  /** One handle for the duration of `fn`; errors become ForgeErrors with file, operation and backend. */
  private async withHandle<T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen(operation);
    checkPath(path, operation, 'fallback');
    this.inFlight++;
    try {
      const guard = await this.resources.acquire(1);
      try {
        // EMFILE/ENFILE here come from fds held outside the budget; they, EAGAIN, EINTR and EBUSY are retried.
        return await retryIo(fn, operation, { file: path, backend: 'fallback' });
      } finally {
        guard.release();
      }
    } catch (e) {
      throw wrap(e, path, operation);
    } finally {
      if (--this.inFlight === 0 && this.idle) this.idle();
    }
  }
}

/** Creates the node:fs/promises backend. */
export function createFallbackBackend(options: FallbackBackendOptions = {}): FallbackBackend {
  return new FallbackBackend(options);
}

/** base/safe-read.ts's rules; a socket (whose open(2) is ENXIO) is not a regular file either. */
async function readSafely(path: string): Promise<{ data: Uint8Array; identity: FileIdentity }> {
  try {
    return await readFileSafely(path, undefined, 'batchRead');
  } catch (e) {
    if (e instanceof ForgeError && e.context.code === 'ENXIO') throw notRegularError(path, 'a socket or device', 'batchRead');
    throw e;
  }
}

/** `mode`: of a file this creates, before the umask (WriteOp.mode); writeFile and the handle keep the one descriptor, so 0o400 works. */
async function writeWhole(path: string, data: Uint8Array, sync: boolean, mode?: number): Promise<void> {
  if (!sync) return fsp.writeFile(path, data, mode === undefined ? undefined : { mode });
  const fh = await fsp.open(path, 'w', mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function wrap(e: unknown, path: unknown, operation: string): ForgeError {
  return toForgeError(e, { file: typeof path === 'string' ? path : String(path), operation, backend: 'fallback' });
}
