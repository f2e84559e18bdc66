/**
 * `forge-io/store`: the content-addressed store (SHA-256 names, LZ4 frames, chunked large content,
 * verify and gc) and the SQLite index of file versions.
 *
 * @example
 * ```ts
 * import { BlobStore } from 'forge-io/store';
 * const store = await BlobStore.open('.forge');
 * const hash = await store.put(new TextEncoder().encode('hello'));
 * console.log(new TextDecoder().decode(await store.get(hash)));
 * await store.close();
 * ```
 *
 * @module
 */
import './base/dispose.js';

export { ForgeError } from './base/errors.js';
export type { ErrorCategory, ErrorContext } from './base/errors.js';
export { BlobStore } from './store/blob-store.js';
export type {
  BlobStoreOptions,
  PutFileOptions,
  DirectIoState,
  PutResult,
  PutManyItem,
  PutManyResult,
  GetManyResult,
  GetOptions,
  BlobStat,
} from './store/blob-store.js';
export type { VerifyOptions, VerifyReport, VerifyProblem, VerifyProgress, ProblemKind } from './store/verify.js';
export type { GcOptions, GcReport } from './store/gc.js';
export type { FlushChoice, FlushState } from './store/batch-flush.js';
export type { Hasher, HasherName, HashStream } from './store/hasher.js';
export type { FrameOptions as StoreFrameOptions, CdcParams as StoreCdcParams } from './store/core-bindings.js';
export type { PoolLogger as IndexLogger } from './index-db/pool.js';
export { objectPath, isHash } from './store/object-path.js';
export { Index } from './index-db/index.js';
export type { ImportedBlob, ImportedVersion } from './index-db/imported.js';
/** Cached prepared statements for connections borrowed from `Index.connections` (safe on Node >= 24 with better-sqlite3 12). */
export { stmt as preparedStatement } from './index-db/statements.js';
export type {
  VersionRecord,
  VersionKind,
  AddVersionInput,
  BlobRecord,
  IndexStats,
  IndexOptions,
  PruneOptions,
  PruneResult,
} from './index-db/index.js';
export type { PrunePolicy, PrunePlan, DoomedVersion } from './index-db/prune.js';
export type { StoreAccess } from './store/format.js';
export type { ReadCounters } from './store/read.js';
