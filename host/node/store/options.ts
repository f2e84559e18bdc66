/** BlobStore's options, results and O_DIRECT state, and the small file helpers it uses. */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { toForgeError, type ForgeError } from '../base/errors.js';
import type { BatchReadOptions, FileIdentity, PlatformIO } from '../base/platform-io.js';
import type { ResourceManager } from '../base/resources.js';
import type { CdcParams, FrameOptions } from './core-bindings.js';
import type { HasherName } from './hasher.js';
import type { FlushChoice } from './batch-flush.js';

/** Options of a {@link BlobStore}. */
export interface BlobStoreOptions {
  /** SHA-256 implementation: 'node-crypto' (default, fastest here) or 'core' (the WebAssembly reference). */
  hasher?: HasherName;
  /** Content larger than this is cut into FastCDC chunks (default 1 MiB). */
  chunkThreshold?: number;
  /** FastCDC sizes (default min 16 KiB, avg 64 KiB, max 256 KiB). */
  cdc?: Partial<CdcParams>;
  /**
   * Bytes read per step when a large file is streamed into chunks (default 8 MiB; at least twice
   * the largest chunk). Memory for a putFile is about this much, whatever the file's size.
   */
  streamWindow?: number;
  /** Content larger than this is compressed on worker threads (default 100,000 bytes). */
  parallelCompressThreshold?: number;
  /** Compression worker threads (default min(4, cores); 0 = compress on the calling thread). */
  workers?: number;
  /**
   * `'lz4'` (default): blocks are LZ4-compressed. `'none'`: blocks are stored uncompressed, for
   * content that does not compress (media, archives) or when put speed matters more than space:
   * no compression cost, no space saved. Objects are standard LZ4 frames either way (`lz4 -d`
   * decodes them, reads check them alike); a store may hold both kinds.
   */
  compression?: 'lz4' | 'none';
  /** LZ4 frame options (default 64 KiB independent blocks, content size and checksum). */
  frame?: Partial<FrameOptions>;
  /**
   * Make every object durable before its put resolves (default true): its bytes and its final
   * name are on stable storage, so nothing that records the put (an index row) can outlive a
   * crash that takes the object. `false`: nothing waits for the disk.
   */
  sync?: boolean;
  /**
   * How a synced store makes a batch of objects durable (default `'auto'`, or the environment
   * variable `FORGE_STORE_FLUSH`). `'auto'`: on Linux, when the objects directory is on ext4, xfs
   * or btrfs, two syncfs(2) per batch (after the tmp files are written, after they are renamed)
   * instead of an fsync per object and per fan-out directory; anywhere else an fsync per object.
   * `'per-file'`: always an fsync per object (a syncfs also flushes, and reports the write
   * errors of, other writers on the same filesystem). Either way a put resolves only once its
   * object is durable; `store.flush` reports which mode is in use and why.
   *
   * @example
   * ```ts
   * const store = await BlobStore.open(dir, { flush: 'per-file' });
   * await store.put(bytes);
   * console.log(store.flush); // { mode: 'per-file', reason: "flush 'per-file' chosen ...", ... }
   * ```
   */
  flush?: FlushChoice;
  /** Objects this large or larger are read through mmap on Linux (default 1 MiB). */
  mmapThreshold?: number;
  /** Largest content one object may decode to (default 1 GiB). */
  maxObjectSize?: number;
  /**
   * Write objects whose content is at least `oDirectThreshold` bytes with O_DIRECT (default false):
   * large writes then bypass the page cache instead of evicting what is hot there. Needs the
   * io_uring backend; where the filesystem refuses O_DIRECT the write goes through the page cache,
   * quietly (counted in `store.oDirect.fallbacks`). With another backend the option is inactive and
   * `store.oDirect.reason` says why.
   */
  oDirect?: boolean;
  /** Content size from which `oDirect` applies (default 1 MiB; at least 4096). */
  oDirectThreshold?: number;
  /**
   * Batch I/O for putMany/getMany/putFile. Default: `createPlatformIO({ resources })`
   * (io_uring where available), owned and closed by the store. `false`: node:fs only.
   */
  io?: PlatformIO | false;
  /** Handle budget shared with the I/O backend; single puts/gets take one handle while a file is open. */
  resources?: ResourceManager;
}

/** What a put stored. */
export interface PutResult {
  /** SHA-256 of the whole content (what `sha256sum` prints). */
  hash: string;
  size: number;
  /** 1 for a single object, else the number of chunks. */
  chunks: number;
  /** The manifest object of chunked content. */
  manifest?: string;
  /** Bytes this put added to the store (0 when everything was there already). */
  storedBytes: number;
  /** For `putFile(path, { safe: true })`: the fstat of the file that was stored. */
  identity?: FileIdentity;
}

/** Options of {@link BlobStore.putFile}. */
export interface PutFileOptions {
  /**
   * Read as {@link BatchReadOptions} `safe` does: O_NOFOLLOW | O_NONBLOCK, a regular file only,
   * fstat before and after (code `ECHANGED` when the file changed during the read).
   */
  safe?: boolean;
  /** With `safe`: the file must still be this dev/ino (what the caller's walk saw), else code `ECHANGED`. */
  expect?: { dev: bigint; ino: bigint };
}

/** One item of `putMany`: bytes, an object holding bytes, or a file path to read. */
export type PutManyItem = Uint8Array | { data: Uint8Array } | { path: string };
/** One slot of `putMany`: the stored object, or the error for that item alone. */
export type PutManyResult = ({ ok: true } & PutResult) | { ok: false; error: ForgeError };
/** One slot of `getMany`: the content, or the error for that hash alone. */
export type GetManyResult = { ok: true; data: Uint8Array } | { ok: false; error: ForgeError };

/** Options of a read. */
export interface GetOptions {
  /** Check the SHA-256 (default true). */
  verify?: boolean;
}

/** What the store holds for one hash: content and on-disk sizes. */
export interface BlobStat {
  hash: string;
  /** Content size in bytes. */
  size: number;
  /** Bytes on disk (for chunked content: manifest plus every chunk). */
  storedSize: number;
  chunked: boolean;
  chunks: number;
  manifest?: string;
  path: string;
}

export const DEFAULT_DIRECT_THRESHOLD = 1 << 20;

/** What `oDirect` does for a store. */
export interface DirectIoState {
  /** Large objects really go to the backend with the O_DIRECT hint. */
  active: boolean;
  /** Content size from which it applies. */
  threshold: number;
  /** Why it is inactive although asked for. */
  reason?: string;
}

export function directState(options: BlobStoreOptions, io: PlatformIO | undefined): DirectIoState {
  const threshold = options.oDirectThreshold ?? DEFAULT_DIRECT_THRESHOLD;
  if (options.oDirect !== true) return { active: false, threshold };
  if (io?.backend !== 'io_uring') {
    const what = io === undefined ? 'node:fs only (io: false)' : `the ${io.backend} backend`;
    return {
      active: false,
      threshold,
      reason: `O_DIRECT writes need the io_uring backend; this store's batch I/O is ${what}, so objects are written through the page cache`,
    };
  }
  return { active: true, threshold };
}

/** The io_uring backend's O_DIRECT counters (other backends have none). */
export function directCounters(io: PlatformIO | undefined): { directWrites?: number; directFallbacks?: number } | undefined {
  const withStats = io as (PlatformIO & { stats?: () => { directWrites?: number; directFallbacks?: number } }) | undefined;
  return typeof withStats?.stats === 'function' ? withStats.stats() : undefined;
}

export function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** The first bytes of a file and its size, or undefined if it does not exist. */
export function readHead(path: string): { bytes: Uint8Array; fileSize: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toForgeError(err, { file: path, operation: 'stat' });
  }
  try {
    const buf = new Uint8Array(32);
    const n = readSync(fd, buf, 0, 32, 0);
    const { size } = fstatSync(fd);
    return { bytes: buf.subarray(0, n), fileSize: size };
  } finally {
    closeSync(fd);
  }
}
