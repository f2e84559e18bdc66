/**
 * `forge-io/io`: batch file reads and writes through the best backend of the platform (io_uring on
 * Linux, IOCP on Windows, kqueue with positional I/O on macOS, node:fs elsewhere), under one handle
 * budget.
 *
 * @example
 * ```ts
 * import { createPlatformIO } from 'forge-io/io';
 * const io = await createPlatformIO();
 * const [r] = await io.batchRead(['package.json']);
 * if (r?.ok) console.log(r.data.length, 'bytes through', io.backend);
 * await io.close();
 * ```
 *
 * @module
 */
import './base/dispose.js';

export { ForgeError } from './base/errors.js';
export type { ErrorCategory, ErrorContext } from './base/errors.js';
export type {
  PlatformIO,
  BackendName,
  BatchReadOptions,
  FileIdentity,
  WriteOp,
  ReadResult,
  WriteResult,
} from './base/platform-io.js';
export { createPlatformIO, getSelectionReport } from './io/select.js';
export type { CreatePlatformIOOptions, SelectedPlatformIO, SelectionReport, BackendRejection, ProbeOverrides } from './io/select.js';
export { ResourceManager, HandleGuard } from './base/resources.js';
export type { ResourceManagerOptions, ResourceStats, AcquireOptions, IoLogger } from './base/resources.js';
