/**
 * BlobStore: a content-addressed, verified, crash-safe store of byte strings. A thin façade:
 * opening is open-store.ts, puts put.ts, reads get.ts, chunked content chunked.ts, objects on
 * disk write.ts and read.ts, compression and decoding codec/. Layout and formats: see
 * object-path.ts, chunking.ts and README.md ("Blob store and index").
 */
import { ForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import { checkCdcParams, DEFAULT_CDC } from './chunking.js';
import { ChunkedContent } from './chunked.js';
import type { FrameCodec } from './codec/frame-codec.js';
import { sharedCodecPoolSize } from './codec/codec-pool.js';
import { WriteCompressor } from './codec/write-compress.js';
import type { StoreAccess } from './format.js';
import { collectGarbage, type GcOptions, type GcReport } from './gc.js';
import { Getter } from './get.js';
import type { Hasher } from './hasher.js';
import { KeyedLocks } from './keyed-locks.js';
import { cleanInterruptedWrites } from './leftovers.js';
import { assertHash } from './object-path.js';
import { openStoreParts, type ResolvedStoreOptions, type StoreParts } from './open-store.js';
import {
  directCounters,
  directState,
  type BlobStat,
  type BlobStoreOptions,
  type DirectIoState,
  type GetManyResult,
  type GetOptions,
  type PutFileOptions,
  type PutManyItem,
  type PutManyResult,
  type PutResult,
} from './options.js';
import { Putter } from './put.js';
import type { ReadContext, ReadCounters } from './read.js';
import { verifyStore, type VerifyOptions, type VerifyReport } from './verify.js';
import { ObjectWriter } from './write.js';
import { flushChoice, type FlushState } from './batch-flush.js';

// `await using` on Node versions whose Symbol.asyncDispose is missing (the well-known symbol Node uses).
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('nodejs.asyncDispose');

export * from './options.js';
/**
 * A verified content-addressed store.
 *
 * @example
 * ```ts
 * import { BlobStore } from 'forge-io';
 * const store = await BlobStore.open('/srv/forge/store');
 * const { hash } = await store.put(new TextEncoder().encode('hello'));
 * const bytes = await store.get(hash); // verified against its SHA-256
 * await store.close(); // or: await using store = await BlobStore.open(dir)
 * ```
 */
export class BlobStore {
  readonly root: string;
  readonly hasher: Hasher;
  /** The store directory's permissions, and whether opening tightened them (see store/format.ts). */
  readonly access: StoreAccess;
  /** Interrupted writes (of processes that are gone) removed when the store was opened. */
  readonly leftoversRemoved: number;
  private readonly locks = new KeyedLocks();
  private readonly chunked: ChunkedContent;
  private readonly counters: ReadCounters = { mmapReads: 0, mmapFallbacks: 0 };
  private readonly writer: ObjectWriter;
  private readonly compressor: WriteCompressor;
  private readonly readCtx: ReadContext;
  private readonly putter: Putter;
  private readonly getter: Getter;
  private readonly codec: FrameCodec;
  private readonly options: ResolvedStoreOptions;
  private readonly io: PlatformIO | undefined;
  private readonly ownsIo: boolean;
  private readonly direct: DirectIoState;
  /** One set per gc called and not finished: the hashes puts touched since that call. */
  private readonly gcTouched = new Set<Set<string>>();
  private gcRunning: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(p: StoreParts) {
    const { root, hasher, codec, options, io } = p;
    this.root = root;
    this.hasher = hasher;
    this.access = p.access;
    this.leftoversRemoved = p.leftoversRemoved;
    this.codec = codec;
    this.options = options;
    this.io = io;
    this.ownsIo = p.ownsIo;
    const cdc = checkCdcParams({ ...DEFAULT_CDC, ...options.cdc });
    this.readCtx = { root, codec, hasher, mmapThreshold: options.mmapThreshold, counters: this.counters };
    this.compressor = new WriteCompressor(p.core, {
      frame: codec.frame,
      parallelThreshold: codec.parallelThreshold,
      workers: codec.workers,
      parallel: codec.parallel,
      stored: options.compression === 'none',
    });
    this.direct = directState(options, io);
    this.writer = new ObjectWriter({
      root,
      locks: this.locks,
      sync: options.sync,
      ...(options.flush !== undefined ? { flush: options.flush } : {}),
      ...(io ? { io } : {}),
      ...(this.direct.active ? { directMinSize: this.direct.threshold } : {}),
      checkExisting: (hash) => this.getter.checkExisting(hash),
      compress: (content, batched) => this.compressor.compress(content, batched),
      frameHere: (content) => this.compressor.frameHere(content),
      touched: (hash) => this.touch(hash),
    });
    this.putter = new Putter({
      hasher,
      writer: this.writer,
      compressor: this.compressor,
      chunked: () => this.chunked,
      chunkThreshold: options.chunkThreshold,
      io,
      resources: options.resources,
    });
    this.chunked = new ChunkedContent({
      root,
      hasher,
      core: p.core,
      cdc,
      readCtx: this.readCtx,
      writer: this.writer,
      locks: this.locks,
      sync: options.sync,
      streamWindow: Math.max(options.streamWindow ?? 8 << 20, 2 * cdc.max),
      touch: (hash) => this.touch(hash),
      pending: (content, batched, knownHash) => this.putter.pendingObject(content, batched, knownHash),
    });
    this.getter = new Getter({ root, hasher, readCtx: this.readCtx, chunked: this.chunked, io, resources: options.resources });
  }

  /** Opens (creating if needed) the store in `dir`. */
  static async open(directory: string, options: BlobStoreOptions = {}): Promise<BlobStore> {
    flushChoice(options.flush); // a bad flush option or FORGE_STORE_FLUSH fails here, before anything is opened
    return new BlobStore(await openStoreParts(directory, options));
  }

  /** Stores `data`; resolves once it is durable, to what was stored (`hash`: its SHA-256), the same shape as {@link putFile}. */
  async put(data: Uint8Array): Promise<PutResult> {
    this.open('put');
    return this.putter.put(data);
  }

  /**
   * Stores the content of the file at `path` (see {@link PutFileOptions} for reading a tree others
   * write). A file larger than the chunk threshold is streamed (read a window, cut, hash, compress
   * and write chunk by chunk): memory stays about `streamWindow`, whatever its size.
   */
  async putFile(path: string, options: PutFileOptions = {}): Promise<PutResult> {
    this.open('putFile');
    const r = await this.chunked.putStream(path, this.options.chunkThreshold, options.safe === true, options.expect);
    if ('small' in r) {
      this.open('put');
      const put = await this.putter.put(r.small);
      return r.identity ? { ...put, identity: r.identity } : put;
    }
    return r;
  }

  /**
   * Writes the content of `hash` to the new file `dest` (it must not exist; created with `mode`,
   * default 0600), streaming chunk by chunk, verified against `hash` unless `{ verify: false }`:
   * memory does not grow with the content's size. Runs of zeros in chunked content become holes.
   * On any failure `dest` is removed.
   */
  async getToFile(hash: string, dest: string, options: GetOptions & { mode?: number } = {}): Promise<{ size: number }> {
    this.open('getToFile');
    assertHash(hash, 'getToFile');
    return this.getter.getToFile(hash, dest, options.verify ?? true, options.mode ?? 0o600);
  }

  /**
   * The content of `hash` as a stream of chunks (one object's content for unchunked content),
   * each verified; the whole is checked against `hash` at the end (the stream errors if not).
   */
  async *getStream(hash: string, options: GetOptions = {}): AsyncGenerator<Uint8Array> {
    this.open('getStream');
    assertHash(hash, 'getStream');
    yield* this.getter.stream(hash, options.verify ?? true);
  }

  /**
   * Stores many contents or files: files are read with one batchRead, small
   * objects written in one commit (one batchWrite and one fsync pass when
   * syncing). One result per item, in order; a failed item does not fail the
   * others.
   */
  async putMany(items: readonly PutManyItem[]): Promise<PutManyResult[]> {
    this.open('putMany');
    return this.putter.putMany(items);
  }

  /** The content of `hash`, verified against it unless `{ verify: false }`. Chunked content is reassembled. */
  async get(hash: string, options: GetOptions = {}): Promise<Uint8Array> {
    this.open('get');
    assertHash(hash, 'get');
    return this.getter.get(hash, options.verify ?? true);
  }

  /** Contents of many hashes: object files are read with one batchRead. One result per hash, in order. */
  async getMany(hashes: readonly string[], options: GetOptions = {}): Promise<GetManyResult[]> {
    this.open('getMany');
    for (const h of hashes) assertHash(h, 'getMany');
    return this.getter.getMany(hashes, options.verify ?? true);
  }

  /** True if `hash` is stored (as an object or as chunked content). Does not verify. */
  async has(hash: string): Promise<boolean> {
    this.open('has');
    assertHash(hash, 'has');
    return this.getter.has(hash);
  }

  /** Size and layout of `hash`, or undefined if it is not stored. Reads only headers. */
  async stat(hash: string): Promise<BlobStat | undefined> {
    this.open('stat');
    assertHash(hash, 'stat');
    return this.getter.stat(hash);
  }

  /**
   * Removes interrupted writes: tmp files whose writer process is gone, and unattributable ones
   * older than an hour (opening the store does this too). Writes in progress are left alone.
   */
  cleanInterruptedWrites(): { removed: number; kept: number } {
    this.open('cleanInterruptedWrites');
    return cleanInterruptedWrites(this.root);
  }

  /** Checks every object and manifest; reports each corrupt, missing or stray entry and tmp leftover. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    this.open('verify');
    return verifyStore(this.readCtx, this.hasher, options);
  }

  /** Removes objects `keep` does not reach, without racing puts (see gc.ts). One gc at a time. */
  async gc(options: GcOptions): Promise<GcReport> {
    this.open('gc');
    // Recording starts at the call, not when the gc gets its turn: a put that completes in
    // between (puts need not wait for anything) must still count as racing this gc.
    const touched = new Set<string>();
    this.gcTouched.add(touched);
    const run = this.gcRunning
      .then(() => collectGarbage({ read: this.readCtx, locks: this.locks, sync: this.options.sync, touched }, options))
      .finally(() => this.gcTouched.delete(touched));
    this.gcRunning = run.catch(() => undefined);
    return run;
  }

  /** Closes it at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Closes the store (its I/O backend if it made it). The process-wide codec worker pool stays up for other stores; idle, they never keep the process alive. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gcRunning;
    await this.codec.close();
    await this.compressor.close();
    await this.writer.close();
    if (this.ownsIo) await this.io?.close();
  }

  /**
   * How this store makes objects durable (option `flush`): `'syncfs'` (two syncfs per batch),
   * `'per-file'` or `'off'` (`sync: false`), the filesystem, why, and syncfs calls so far.
   * Decided by the first write; before it, `mode` is `'undecided'`.
   */
  get flush(): FlushState | { mode: 'undecided'; reason: string; syncfsCalls: 0 } {
    return this.writer.flushState() ?? { mode: 'undecided', reason: 'decided by the first write', syncfsCalls: 0 };
  }

  /**
   * Counters since open: objects read through mmap, large ones that fell back to a plain read,
   * and the most writers ever inside one hash's write lock at once (1 when the per-hash lock holds).
   */
  stats(): ReadCounters & { peakWritersPerHash: number } {
    return { ...this.counters, peakWritersPerHash: this.writer.counters.peakWritersPerHash };
  }

  /** The I/O backend batch operations use ('none' when node:fs only). */
  get backend(): string {
    return this.io?.backend ?? 'none';
  }

  /**
   * Whether large objects are written with O_DIRECT (option `oDirect`), from what content size,
   * and how often the backend wrote directly or fell back to buffered (counters of the backend,
   * shared by everything that uses it).
   */
  get oDirect(): DirectIoState & { writes: number; fallbacks: number } {
    const stats = this.direct.active ? directCounters(this.io) : undefined;
    return { ...this.direct, writes: stats?.directWrites ?? 0, fallbacks: stats?.directFallbacks ?? 0 };
  }

  /**
   * How blocks are stored (`blocks`: the option `compression`), whether large content is
   * compressed on worker threads, and if not why. `workers`: this
   * store's bound (option `workers`); `poolSize`: the bound of the process's one shared pool
   * (the largest `workers` of any store; 0 until a store starts it).
   */
  get compression(): { blocks: 'lz4' | 'none'; parallel: boolean; workers: number; poolSize: number; reason?: string } {
    return {
      blocks: this.options.compression ?? 'lz4',
      parallel: this.codec.parallel,
      workers: this.codec.workers,
      poolSize: sharedCodecPoolSize(),
      ...(this.codec.inlineReason ? { reason: this.codec.inlineReason } : {}),
    };
  }

  /** Records a hash a put wrote or found intact, for every gc in progress. */
  private touch(hash: string): void {
    for (const t of this.gcTouched) t.add(hash);
  }

  private open(operation: string): void {
    if (this.closed) {
      throw new ForgeError('configuration', `BlobStore at ${this.root} is closed`, {
        context: { operation },
        suggestions: ['Open the store again with BlobStore.open().'],
      });
    }
  }
}
