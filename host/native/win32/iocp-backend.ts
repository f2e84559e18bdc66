/**
 * The IOCP backend (Windows): PlatformIO over one completion port.
 *
 * Files are opened with CreateFileW(FILE_FLAG_OVERLAPPED) and associated with
 * the port; reads and writes are overlapped ReadFile/WriteFile at explicit
 * offsets, reaped in batches by GetQueuedCompletionStatusEx on a koffi worker
 * (iocp-port.ts); `sync` is FlushFileBuffers, also off the event loop. Each
 * open file holds one handle from the ResourceManager. Watching is
 * ReadDirectoryChangesW on the same port (rdcw-watcher.ts).
 *
 * Loaded by the selector (host/node/select.ts) with a dynamic import on win32 only.
 */
import * as path from 'node:path';
import { ForgeError, toForgeError } from '../../node/errors.js';
import type { PlatformIO, ReadResult, WatchHandle, WatchOptions, WriteOp, WriteResult } from '../../node/platform-io.js';
import { ResourceManager, type IoLogger } from '../../node/resources.js';
import { ManagedWatchHandle, resolveWatchOptions } from '../../node/watch-handle.js';
import { loadKernel32, type Kernel32 } from './kernel32.js';
import { IocpPort } from './iocp-port.js';
import { OverlappedFile, MAX_TRANSFER, type OpenMode } from './iocp-file.js';
import { allocNative, type NativeBlock } from './native-memory.js';
import { RdcwWatchSource } from './rdcw-watcher.js';

export interface IocpBackendOptions {
  /** Handle budget shared with the rest of Forge; one is created (maxHandles) when absent. */
  resources?: ResourceManager;
  /** Budget of the ResourceManager created when `resources` is absent (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
  /** Files of one batch in flight at once (default 64), bounding native buffer memory. */
  maxInFlight?: number;
}

const BACKEND = 'iocp';

/** Runs `fn` over `items` with at most `limit` running; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
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

function invalid(operation: string, file: string | undefined, message: string): ForgeError {
  return new ForgeError('validation', `${operation}: ${message}`, {
    context: { operation, backend: BACKEND, ...(file !== undefined ? { file } : {}) },
    suggestions: ['Pass a non-empty path string, a Uint8Array of data, and non-negative integer offsets/lengths.'],
  });
}

class IocpBackend implements PlatformIO {
  readonly backend = 'iocp' as const;
  private closed = false;
  private readonly watches = new Set<WatchHandle>();
  private inFlightOps = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly k: Kernel32,
    private readonly port: IocpPort,
    private readonly resources: ResourceManager,
    private readonly ownsResources: boolean,
    private readonly maxInFlight: number,
    private readonly logger: IoLogger | undefined,
  ) {}

  private winPath(p: string, operation: string): string {
    if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) throw invalid(operation, String(p), 'path must be a non-empty string without NUL');
    return path.toNamespacedPath(path.resolve(p));
  }

  /** Opens `p`, runs `fn`, closes; holds one handle of the budget meanwhile. */
  private async withFile<T>(p: string, mode: OpenMode, operation: string, fn: (f: OverlappedFile) => Promise<T>): Promise<T> {
    if (this.closed) throw new ForgeError('unknown', `${operation}: the IOCP backend is closed`, { context: { operation, backend: BACKEND, file: p } });
    const wp = this.winPath(p, operation);
    const guard = await this.resources.acquire();
    this.inFlightOps++;
    const t0 = Date.now();
    try {
      const f = OverlappedFile.open(this.k, this.port, wp, p, mode);
      try {
        return await fn(f);
      } finally {
        f.close();
      }
    } catch (err) {
      throw toForgeError(err, { operation, file: p, backend: BACKEND });
    } finally {
      guard.release();
      this.logger?.debug({ op: operation, backend: BACKEND, file: p, ms: Date.now() - t0 }, 'io');
      if (--this.inFlightOps === 0) this.idle?.();
    }
  }

  /** Reads until `length` bytes or end of file, into one native block, then copies out. */
  private async readRange(f: OverlappedFile, offset: number, length: number): Promise<Uint8Array> {
    const mem = allocNative(this.k, length);
    try {
      let got = 0;
      while (got < length) {
        const n = await f.readAt(mem, got, offset + got, length - got);
        if (n === 0) break; // end of file
        got += n;
      }
      return mem.bytes.slice(0, got);
    } finally {
      mem.free();
    }
  }

  private async writeRange(f: OverlappedFile, data: Uint8Array, offset: number): Promise<number> {
    if (data.byteLength === 0) return 0;
    const mem: NativeBlock = allocNative(this.k, data.byteLength);
    try {
      mem.bytes.set(data);
      let done = 0;
      while (done < data.byteLength) {
        const n = await f.writeAt(mem, done, offset + done, data.byteLength - done);
        if (n === 0) throw new ForgeError('filesystem', `WriteFile wrote 0 bytes at offset ${offset + done}`, { context: { operation: 'write', file: f.path, backend: BACKEND, code: 'EIO' } });
        done += n;
      }
      return done;
    } finally {
      mem.free();
    }
  }

  async read(p: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('read', p, `offset must be a non-negative integer, got ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw invalid('read', p, `length must be a non-negative integer, got ${length}`);
    return this.withFile(p, 'read', 'read', (f) => this.readRange(f, offset, length));
  }

  async write(p: string, data: Uint8Array, offset = 0): Promise<number> {
    if (!(data instanceof Uint8Array)) throw invalid('write', p, 'data must be a Uint8Array');
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('write', p, `offset must be a non-negative integer, got ${offset}`);
    return this.withFile(p, 'write', 'write', (f) => this.writeRange(f, data, offset));
  }

  async readAll(p: string): Promise<Uint8Array> {
    return this.withFile(p, 'read', 'readAll', async (f) => {
      const size = f.size();
      const first = await this.readRange(f, 0, size);
      if (first.byteLength < size) return first; // shrank meanwhile
      // The file may have grown since GetFileSizeEx: keep reading to the end.
      const parts: Uint8Array[] = [first];
      let at = size;
      for (;;) {
        const more = await this.readRange(f, at, Math.min(MAX_TRANSFER, Math.max(65536, at)));
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

  async writeAll(p: string, data: Uint8Array, options?: { sync?: boolean }): Promise<void> {
    if (!(data instanceof Uint8Array)) throw invalid('writeAll', p, 'data must be a Uint8Array');
    await this.withFile(p, 'replace', 'writeAll', async (f) => {
      await this.writeRange(f, data, 0);
      if (options?.sync) await f.flush();
    });
  }

  async batchRead(paths: readonly string[]): Promise<ReadResult[]> {
    if (!Array.isArray(paths)) throw invalid('batchRead', undefined, 'paths must be an array of strings');
    return mapLimited(paths, this.maxInFlight, async (p): Promise<ReadResult> => {
      try {
        return { ok: true, data: await this.readAll(p) };
      } catch (err) {
        return { ok: false, error: toForgeError(err, { operation: 'batchRead', file: String(p), backend: BACKEND }) };
      }
    });
  }

  async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
    if (!Array.isArray(ops)) throw invalid('batchWrite', undefined, 'ops must be an array of { path, data, sync? }');
    return mapLimited(ops, this.maxInFlight, async (op): Promise<WriteResult> => {
      try {
        if (op === null || typeof op !== 'object') throw invalid('batchWrite', undefined, 'each op must be { path, data, sync? }');
        await this.writeAll(op.path, op.data, { sync: op.sync === true });
        return { ok: true, bytes: op.data.byteLength };
      } catch (err) {
        return { ok: false, error: toForgeError(err, { operation: 'batchWrite', file: String(op?.path), backend: BACKEND }) };
      }
    });
  }

  watch(root: string, options?: WatchOptions): WatchHandle {
    if (this.closed) throw new ForgeError('unknown', 'watch: the IOCP backend is closed', { context: { operation: 'watch', backend: BACKEND, file: root } });
    const resolved = resolveWatchOptions(root, options);
    const source = new RdcwWatchSource(this.k, this.port, root, resolved, this.resources);
    const handle = new ManagedWatchHandle(source, resolved);
    this.watches.add(handle);
    const origClose = handle.close.bind(handle);
    handle.close = () => origClose().finally(() => this.watches.delete(handle));
    return handle;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.close()));
    if (this.inFlightOps > 0) await new Promise<void>((r) => (this.idle = r));
    await this.port.close();
    if (this.ownsResources) await this.resources.shutdown(1000);
  }
}

/**
 * Creates the IOCP backend. Throws a `dependency` ForgeError when kernel32
 * cannot be loaded through koffi (not Windows, or koffi's win32 binary missing).
 *
 * @example
 * ```ts
 * // Normally through createPlatformIO(); directly, on Windows only:
 * const { createIocpBackend } = await import('forge-io/dist/host/native/win32/iocp-backend.js');
 * const io = await createIocpBackend({ maxHandles: 256 });
 * const [r] = await io.batchRead(['C:\\data\\a.bin']);
 * await io.close();
 * ```
 */
export async function createIocpBackend(options: IocpBackendOptions = {}): Promise<PlatformIO> {
  if (process.platform !== 'win32') {
    throw new ForgeError('dependency', `the IOCP backend runs on Windows only (this is ${process.platform})`, {
      context: { operation: 'createIocpBackend', backend: BACKEND },
      suggestions: ['Use createPlatformIO(), which picks the backend for this platform.'],
    });
  }
  let k: Kernel32;
  try {
    k = loadKernel32();
  } catch (err) {
    throw new ForgeError('dependency', 'the IOCP backend could not load kernel32.dll through koffi', {
      cause: err,
      context: { operation: 'createIocpBackend', backend: BACKEND },
    });
  }
  const maxInFlight = options.maxInFlight ?? 64;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new ForgeError('configuration', `maxInFlight must be an integer >= 1, got ${String(maxInFlight)}`, {
      context: { operation: 'createIocpBackend', backend: BACKEND, field: 'maxInFlight' },
    });
  }
  const port = IocpPort.create(k);
  const resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles ?? 1024, ...(options.logger ? { logger: options.logger } : {}) });
  return new IocpBackend(k, port, resources, options.resources === undefined, maxInFlight, options.logger);
}
