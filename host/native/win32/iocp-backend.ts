/**
 * The IOCP backend (Windows): PlatformIO over one completion port.
 *
 * Files are opened with CreateFileW(FILE_FLAG_OVERLAPPED) and associated with
 * the port; reads and writes are overlapped ReadFile/WriteFile at explicit
 * offsets (iocp-file.ts), reaped in batches by GetQueuedCompletionStatusEx on
 * a koffi worker thread (iocp-port.ts), so the event loop never blocks; `sync`
 * is FlushFileBuffers, also off the event loop. Each open file holds one
 * handle of the ResourceManager. Watching is ReadDirectoryChangesW on the same
 * port (rdcw-watcher.ts). Batching, validation and per-slot errors are shared
 * with the kqueue backend (../shared/positional-backend.ts).
 *
 * Loaded by the selector (host/node/io/select.ts) with a dynamic import on win32 only.
 */
import * as path from 'node:path';
import { ForgeError } from '../../node/base/errors.js';
import type { PlatformIO } from '../../node/base/platform-io.js';
import { ResourceManager, type IoLogger } from '../../node/base/resources.js';
import { PositionalBackend, checkMaxInFlight, type PositionalDriver } from '../shared/positional-backend.js';
import { loadKernel32, type Kernel32 } from './kernel32.js';
import { IocpPort } from './iocp-port.js';
import { OverlappedFile, MAX_TRANSFER } from './iocp-file.js';
import { allocNative } from './native-memory.js';
import { RDCW_BUFFER_BYTES, RdcwWatchSource } from './rdcw-watcher.js';

export interface IocpBackendOptions {
  /** Handle budget shared with the rest of Forge; one is created (maxHandles) when absent. */
  resources?: ResourceManager;
  /** Budget of the ResourceManager created when `resources` is absent (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
  /** Files of one batch in flight at once (default 64), bounding native buffer memory. */
  maxInFlight?: number;
  /**
   * Bytes of ReadDirectoryChangesW's record buffer per watch (default 64 KiB, 64..1 MiB).
   * A burst larger than this is reported as `overflow` followed by a rescan.
   */
  rdcwBufferBytes?: number;
}

/**
 * Creates the IOCP backend. Throws a `dependency` ForgeError off Windows or
 * when kernel32 cannot be loaded through koffi (koffi's win32 binary missing).
 *
 * @example
 * ```ts
 * // Normally through createPlatformIO(), which picks it on Windows:
 * const io = await createPlatformIO();          // io.backend === 'iocp'
 * const [r] = await io.batchRead(['C:\\data\\a.bin']);
 * await io.close();
 * ```
 */
export async function createIocpBackend(options: IocpBackendOptions = {}): Promise<PlatformIO> {
  if (process.platform !== 'win32') {
    throw new ForgeError('dependency', `the IOCP backend runs on Windows only (this is ${process.platform})`, {
      context: { operation: 'createIocpBackend', backend: 'iocp' },
      suggestions: ['Use createPlatformIO(), which picks the backend for this platform.'],
    });
  }
  let k: Kernel32;
  try {
    k = loadKernel32();
  } catch (err) {
    throw new ForgeError('dependency', 'the IOCP backend could not load kernel32.dll through koffi', {
      cause: err,
      context: { operation: 'createIocpBackend', backend: 'iocp' },
    });
  }
  const maxInFlight = checkMaxInFlight(options.maxInFlight, 'iocp');
  const rdcwBufferBytes = options.rdcwBufferBytes ?? RDCW_BUFFER_BYTES;
  if (!Number.isInteger(rdcwBufferBytes) || rdcwBufferBytes < 64 || rdcwBufferBytes > 1024 * 1024) {
    throw new ForgeError('configuration', `rdcwBufferBytes must be an integer in 64..1048576, got ${String(rdcwBufferBytes)}`, {
      context: { operation: 'createIocpBackend', backend: 'iocp', field: 'rdcwBufferBytes' },
    });
  }
  const port = IocpPort.create(k);
  const resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles ?? 1024, ...(options.logger ? { logger: options.logger } : {}) });
  const driver: PositionalDriver = {
    backend: 'iocp',
    maxTransfer: MAX_TRANSFER,
    // WriteOp.mode (createMode) is ignored: Windows has no POSIX permission bits; files are created FILE_ATTRIBUTE_NORMAL.
    open: (abs, display, mode) => OverlappedFile.open(k, port, path.toNamespacedPath(abs), display, mode),
    alloc: (size) => allocNative(k, size),
  };
  return new PositionalBackend(driver, {
    resources,
    ownsResources: options.resources === undefined,
    maxInFlight,
    ...(options.logger ? { logger: options.logger } : {}),
    watchSource: (root, resolved) => new RdcwWatchSource(k, port, root, resolved, resources, rdcwBufferBytes),
    closeDriver: () => port.close(),
  });
}
