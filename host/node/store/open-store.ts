/**
 * Opening a store: its options checked, its directory prepared (format.ts), interrupted writes
 * cleaned up, and the parts every BlobStore is built from (hasher, core, frame codec, I/O).
 */
import { resolve } from 'node:path';
import type { PlatformIO } from '../base/platform-io.js';
import { createPlatformIO } from '../io/select.js';
import { FrameCodec } from './codec/frame-codec.js';
import { coreBindings, type CoreBindings } from './core-bindings.js';
import { checkFormat, prepareStoreDir, storeError, type StoreAccess } from './format.js';
import { createHasher, type Hasher } from './hasher.js';
import { cleanInterruptedWrites } from './leftovers.js';
import { DEFAULT_DIRECT_THRESHOLD, type BlobStoreOptions } from './options.js';

/** Options with the defaults every part relies on filled in. */
export type ResolvedStoreOptions = Required<Pick<BlobStoreOptions, 'chunkThreshold' | 'sync' | 'mmapThreshold'>> & BlobStoreOptions;

/** What a BlobStore is built from. */
export interface StoreParts {
  root: string;
  hasher: Hasher;
  core: CoreBindings;
  codec: FrameCodec;
  options: ResolvedStoreOptions;
  io: PlatformIO | undefined;
  /** The store made `io` and closes it. */
  ownsIo: boolean;
  access: StoreAccess;
  leftoversRemoved: number;
}

/** Checks `options`, prepares the directory and makes the parts of the store in `directory`. */
export async function openStoreParts(directory: string, options: BlobStoreOptions): Promise<StoreParts> {
  const root = resolve(directory); // object paths are built by concatenation from this
  const directThreshold = options.oDirectThreshold ?? DEFAULT_DIRECT_THRESHOLD;
  if (!Number.isSafeInteger(directThreshold) || directThreshold < 4096) {
    throw storeError(
      `oDirectThreshold must be an integer >= 4096, got ${String(directThreshold)}`,
      'oDirectThreshold',
      'Use e.g. 1048576 (1 MiB, the default).',
    );
  }
  const chunkThreshold = options.chunkThreshold ?? 1 << 20;
  if (!Number.isSafeInteger(chunkThreshold) || chunkThreshold < 1024) {
    throw storeError(`chunkThreshold must be an integer >= 1024, got ${String(chunkThreshold)}`, 'chunkThreshold', 'Use e.g. 1048576 (1 MiB, the default).');
  }
  if (options.compression !== undefined && options.compression !== 'lz4' && options.compression !== 'none') {
    throw storeError(`compression must be 'lz4' or 'none', got ${JSON.stringify(options.compression)}`, 'compression', "Use 'lz4' (the default) or 'none'.");
  }
  const access = prepareStoreDir(root);
  checkFormat(root);
  const leftovers = cleanInterruptedWrites(root);
  const hasher = await createHasher(options.hasher ?? 'node-crypto');
  const core = coreBindings();
  const codec = new FrameCodec(core, {
    ...(options.frame ? { frame: options.frame } : {}),
    ...(options.parallelCompressThreshold !== undefined ? { parallelThreshold: options.parallelCompressThreshold } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.maxObjectSize !== undefined ? { maxObjectSize: options.maxObjectSize } : {}),
  });
  let io: PlatformIO | undefined;
  let ownsIo = false;
  if (options.io === undefined) {
    io = await createPlatformIO(options.resources ? { resources: options.resources } : {});
    ownsIo = true;
  } else if (options.io !== false) {
    io = options.io;
  }
  return {
    root,
    hasher,
    core,
    codec,
    options: { ...options, chunkThreshold, sync: options.sync ?? true, mmapThreshold: options.mmapThreshold ?? 1 << 20 },
    io,
    ownsIo,
    access,
    leftoversRemoved: leftovers.removed,
  };
}
