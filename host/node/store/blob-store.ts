/**
 * BlobStore: a content-addressed, verified, crash-safe store of byte strings.
 * Layout and formats: see object-path.ts, chunking.ts and README.md ("Blob store and index").
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import { createPlatformIO } from '../io/select.js';
import { checkCdcParams, DEFAULT_CDC } from './chunking.js';
import { ChunkedContent, writePartsToFile } from './chunked.js';
import { coreBindings, type CdcParams, type CoreBindings } from './core-bindings.js';
import { FrameCodec, parseFrameHeader } from './frame-codec.js';
import { checkFormat, prepareStoreDir, storeError, type StoreAccess } from './format.js';
import { collectGarbage, type GcOptions, type GcReport } from './gc.js';
import { createHasher, type Hasher } from './hasher.js';
import { KeyedLocks } from './keyed-locks.js';
import { cleanInterruptedWrites } from './leftovers.js';
import {
  assertHash,
  manifestRefPath,
  objectPath,
} from './object-path.js';
import { decodeObject, notFoundError, readObject, readObjectSync, type ReadContext, type ReadCounters } from './read.js';
import { verifyStore, type VerifyOptions, type VerifyReport } from './verify.js';
import {
  DEFAULT_DIRECT_THRESHOLD,
  directCounters,
  directState,
  exists,
  readHead,
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
import { ObjectWriter, type ExistingState, type PendingObject, type WriteOutcome } from './write.js';
import { WriteCompressor } from './write-compress.js';


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
  private readonly locks = new KeyedLocks();
  private readonly chunked: ChunkedContent;
  private readonly counters: ReadCounters = { mmapReads: 0, mmapFallbacks: 0 };
  private readonly writer: ObjectWriter;
  private readonly compressor: WriteCompressor;
  private readonly readCtx: ReadContext;
  private readonly cdc: CdcParams;
  private readonly io: PlatformIO | undefined;
  private readonly direct: DirectIoState;
  /** One set per gc called and not finished: the hashes puts touched since that call. */
  private readonly gcTouched = new Set<Set<string>>();
  private gcRunning: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Gets between their start and their object read (see get). */
  private getsInFlight = 0;

  private constructor(
    readonly root: string,
    readonly hasher: Hasher,
    core: CoreBindings,
    private readonly codec: FrameCodec,
    private readonly options: Required<Pick<BlobStoreOptions, 'chunkThreshold' | 'sync' | 'mmapThreshold'>> & BlobStoreOptions,
    io: PlatformIO | undefined,
    private readonly ownsIo: boolean,
    /** The store directory's permissions, and whether opening tightened them (see store/format.ts). */
    readonly access: StoreAccess,
    /** Interrupted writes (of processes that are gone) removed when the store was opened. */
    readonly leftoversRemoved: number,
  ) {
    this.io = io;
    this.cdc = checkCdcParams({ ...DEFAULT_CDC, ...options.cdc });
    this.readCtx = { root, codec, hasher, mmapThreshold: options.mmapThreshold, counters: this.counters };
    this.compressor = new WriteCompressor(core, {
      frame: codec.frame,
      parallelThreshold: codec.parallelThreshold,
      workers: codec.workers,
      parallel: codec.parallel,
    });
    this.direct = directState(options, io);
    this.writer = new ObjectWriter({
      root,
      locks: this.locks,
      sync: options.sync,
      ...(io ? { io } : {}),
      ...(this.direct.active ? { directMinSize: this.direct.threshold } : {}),
      checkExisting: (hash) => this.checkExisting(hash),
      compress: (content, batched) => this.compressor.compress(content, batched),
      touched: (hash) => this.touch(hash),
    });
    this.chunked = new ChunkedContent({
      root,
      hasher,
      core,
      cdc: this.cdc,
      readCtx: this.readCtx,
      writer: this.writer,
      locks: this.locks,
      sync: options.sync,
      streamWindow: Math.max(options.streamWindow ?? 8 << 20, 2 * this.cdc.max),
      touch: (hash) => this.touch(hash),
      pending: (content, batched, knownHash) => this.pendingObject(content, batched, knownHash),
    });
  }

  /** Opens (creating if needed) the store in `dir`. */
  static async open(directory: string, options: BlobStoreOptions = {}): Promise<BlobStore> {
    const dir = resolve(directory); // object paths are built by concatenation from this
    const directThreshold = options.oDirectThreshold ?? DEFAULT_DIRECT_THRESHOLD;
    if (!Number.isSafeInteger(directThreshold) || directThreshold < 4096) {
      throw storeError(`oDirectThreshold must be an integer >= 4096, got ${String(directThreshold)}`, 'oDirectThreshold', 'Use e.g. 1048576 (1 MiB, the default).');
    }
    const chunkThreshold = options.chunkThreshold ?? 1 << 20;
    if (!Number.isSafeInteger(chunkThreshold) || chunkThreshold < 1024) {
      throw storeError(`chunkThreshold must be an integer >= 1024, got ${String(chunkThreshold)}`, 'chunkThreshold', 'Use e.g. 1048576 (1 MiB, the default).');
    }
    const access = prepareStoreDir(dir);
    checkFormat(dir);
    const leftovers = cleanInterruptedWrites(dir);
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
    return new BlobStore(
      dir,
      hasher,
      core,
      codec,
      { ...options, chunkThreshold, sync: options.sync ?? true, mmapThreshold: options.mmapThreshold ?? 1 << 20 },
      io,
      ownsIo,
      access,
      leftovers.removed,
    );
  }

  /** Stores `data`; resolves once it is durable, to what was stored (`hash`: its SHA-256), the same shape as {@link putFile}. */
  async put(data: Uint8Array): Promise<PutResult> {
    return this.putContent(data);
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
      const put = await this.putContent(r.small);
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
    const verify = options.verify ?? true;
    const mode = options.mode ?? 0o600;
    const manifestHash = this.chunked.manifestOf(hash);
    if (manifestHash === undefined) {
      const data = await this.get(hash, { verify });
      await writePartsToFile(dest, data.length, [data], mode);
      return { size: data.length };
    }
    const manifest = this.chunked.readManifest(manifestHash);
    const stream = verify ? this.hasher.stream() : undefined;
    const chunked = this.chunked;
    function* parts(): Generator<Uint8Array> {
      for (const p of chunked.chunksOf(hash, manifest, verify)) {
        stream?.update(p);
        yield p;
      }
      if (stream) chunked.checkWhole(hash, manifestHash!, manifest, stream.hex());
    }
    await writePartsToFile(dest, manifest.size, parts(), mode);
    return { size: manifest.size };
  }

  /**
   * The content of `hash` as a stream of chunks (one object's content for unchunked content),
   * each verified; the whole is checked against `hash` at the end (the stream errors if not).
   */
  async *getStream(hash: string, options: GetOptions = {}): AsyncGenerator<Uint8Array> {
    this.open('getStream');
    assertHash(hash, 'getStream');
    const verify = options.verify ?? true;
    const manifestHash = this.chunked.manifestOf(hash);
    if (manifestHash === undefined) {
      yield await this.get(hash, { verify });
      return;
    }
    const manifest = this.chunked.readManifest(manifestHash);
    const stream = verify ? this.hasher.stream() : undefined;
    for (const p of this.chunked.chunksOf(hash, manifest, verify)) {
      stream?.update(p);
      yield p;
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the consumer and the loop run
    }
    if (stream) this.chunked.checkWhole(hash, manifestHash, manifest, stream.hex());
  }

  /**
   * Stores many contents or files: files are read with one batchRead, small
   * objects written in one commit (one batchWrite and one fsync pass when
   * syncing). One result per item, in order; a failed item does not fail the
   * others.
   */
  async putMany(items: readonly PutManyItem[]): Promise<PutManyResult[]> {
    this.open('putMany');
    const results = new Array<PutManyResult>(items.length);
    const contents = new Array<Uint8Array | undefined>(items.length);
    const paths: string[] = [];
    const pathSlots: number[] = [];
    items.forEach((it, i) => {
      if (it instanceof Uint8Array) contents[i] = it;
      else if ('data' in it) contents[i] = it.data;
      else {
        paths.push(it.path);
        pathSlots.push(i);
      }
    });
    if (paths.length > 0) {
      const read = await this.batchRead(paths);
      read.forEach((r, k) => {
        const slot = pathSlots[k]!;
        if (r.ok) contents[slot] = r.data;
        else results[slot] = { ok: false, error: r.error };
      });
    }
    // Each small item goes to the writer as soon as it is hashed, so workers compress earlier
    // items while this thread hashes later ones; the writes of the turn share one commit. A
    // hash repeated in the batch shares the first one's write, and its bytes count once.
    const small: Array<{ slot: number; obj: PendingObject; outcome: Promise<WriteOutcome>; repeat: boolean }> = [];
    const chunked: number[] = [];
    const batched = items.length > 1;
    const byHash = new Map<string, Promise<WriteOutcome>>();
    for (let i = 0; i < items.length; i++) {
      const c = contents[i];
      if (c === undefined) continue;
      if (c.length > this.options.chunkThreshold) {
        chunked.push(i);
        continue;
      }
      const hash = this.hasher.hex(c);
      const first = byHash.get(hash);
      if (first !== undefined) {
        small.push({ slot: i, obj: { hash, content: c }, outcome: first, repeat: true });
        continue;
      }
      const obj = this.pendingObject(c, batched, hash);
      const outcome = this.writer.write(obj, batched);
      byHash.set(hash, outcome);
      small.push({ slot: i, obj, outcome, repeat: false });
    }
    for (const i of chunked) {
      try {
        results[i] = { ok: true, ...(await this.chunked.putBytes(contents[i]!)) };
      } catch (err) {
        results[i] = { ok: false, error: toForgeError(err, { operation: 'putMany' }) };
      }
    }
    const outcomes = await Promise.all(small.map((s) => s.outcome));
    small.forEach(({ slot, obj, repeat }, k) => {
      const o = outcomes[k]!;
      if (!o.ok) results[slot] = { ok: false, error: o.error };
      else results[slot] = { ok: true, hash: obj.hash, size: obj.content.length, chunks: 1, storedBytes: repeat ? 0 : o.storedBytes };
    });
    return results;
  }

  /** The content of `hash`, verified against it unless `{ verify: false }`. Chunked content is reassembled. */
  async get(hash: string, options: GetOptions = {}): Promise<Uint8Array> {
    this.open('get');
    assertHash(hash, 'get');
    const verify = options.verify ?? true;
    this.getsInFlight++;
    try {
      // One microtask, so that gets started in the same tick count each other: a burst of them
      // hands large objects to the decode workers, a lone get decodes inline.
      await undefined;
      const concurrent = this.getsInFlight > 1;
      const content = await this.withHandle(() => readObject(this.readCtx, hash, verify, concurrent));
      if (content !== undefined) return content;
    } finally {
      this.getsInFlight--;
    }
    const manifestHash = this.chunked.manifestOf(hash);
    if (manifestHash === undefined) throw notFoundError(this.root, hash);
    return this.chunked.reassemble(hash, manifestHash, verify);
  }

  /** Contents of many hashes: object files are read with one batchRead. One result per hash, in order. */
  async getMany(hashes: readonly string[], options: GetOptions = {}): Promise<GetManyResult[]> {
    this.open('getMany');
    const verify = options.verify ?? true;
    for (const h of hashes) assertHash(h, 'getMany');
    const read = await this.batchRead(hashes.map((h) => objectPath(this.root, h)));
    return Promise.all(
      read.map(async (r, i): Promise<GetManyResult> => {
        const hash = hashes[i]!;
        try {
          if (r.ok) return { ok: true, data: decodeObject(this.readCtx, hash, objectPath(this.root, hash), r.data, verify) };
          if (r.error.context.code !== 'ENOENT') return { ok: false, error: r.error };
          return { ok: true, data: await this.get(hash, { verify }) };
        } catch (err) {
          return { ok: false, error: toForgeError(err, { operation: 'getMany', hash }) };
        }
      }),
    );
  }

  /** True if `hash` is stored (as an object or as chunked content). Does not verify. */
  async has(hash: string): Promise<boolean> {
    this.open('has');
    assertHash(hash, 'has');
    return exists(objectPath(this.root, hash)) || exists(manifestRefPath(this.root, hash));
  }

  /** Size and layout of `hash`, or undefined if it is not stored. Reads only headers. */
  async stat(hash: string): Promise<BlobStat | undefined> {
    this.open('stat');
    assertHash(hash, 'stat');
    const path = objectPath(this.root, hash);
    const head = readHead(path);
    if (head !== undefined) {
      const info = parseFrameHeader(head.bytes);
      if (info?.contentSize !== undefined) {
        return { hash, size: info.contentSize, storedSize: head.fileSize, chunked: false, chunks: 1, path };
      }
      const content = await this.get(hash);
      return { hash, size: content.length, storedSize: head.fileSize, chunked: false, chunks: 1, path };
    }
    const manifestHash = this.chunked.manifestOf(hash);
    if (manifestHash === undefined) return undefined;
    const manifest = this.chunked.readManifest(manifestHash);
    let storedSize = statSync(objectPath(this.root, manifestHash)).size;
    for (const c of new Set(manifest.chunks.map((c) => c.hash))) {
      const s = readHead(objectPath(this.root, c));
      storedSize += s?.fileSize ?? 0;
    }
    return {
      hash,
      size: manifest.size,
      storedSize,
      chunked: true,
      chunks: manifest.chunks.length,
      manifest: manifestHash,
      path: manifestRefPath(this.root, hash),
    };
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

  /** Stops the compression workers. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gcRunning;
    await this.codec.close();
    await this.compressor.close();
    if (this.ownsIo) await this.io?.close();
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

  /** Whether large content is compressed on worker threads, and if not why. */
  get compression(): { parallel: boolean; workers: number; reason?: string } {
    return {
      parallel: this.codec.parallel,
      workers: this.codec.workers,
      ...(this.codec.inlineReason ? { reason: this.codec.inlineReason } : {}),
    };
  }

  // ------------------------------------------------------------------ internals

  /** `content` hashed, its compression started first when it goes to the workers (they compress while this thread hashes). */
  private pendingObject(content: Uint8Array, batched: boolean, knownHash?: string): PendingObject {
    const frame = this.compressor.early(content, batched);
    // Marked handled: if the object turns out to exist (or the put fails first) nobody awaits it.
    frame?.catch(() => undefined);
    const hash = knownHash ?? this.hasher.hex(content);
    return frame === undefined ? { hash, content } : { hash, content, frame };
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

  private async putContent(data: Uint8Array): Promise<PutResult> {
    this.open('put');
    if (!(data instanceof Uint8Array)) {
      throw new ForgeError('validation', `put: data must be a Uint8Array (or Buffer), got ${typeof data}`, {
        context: { operation: 'put' },
      });
    }
    if (data.length > this.options.chunkThreshold) return this.chunked.putBytes(data);
    const obj = this.pendingObject(data, false);
    const hash = obj.hash;
    const r = this.options.resources;
    // One handle of the shared budget while the file is open (taken without waiting when free).
    const guard = r === undefined ? undefined : (r.tryAcquire(1) ?? (await r.acquire(1)));
    let outcome: WriteOutcome;
    try {
      outcome = await this.writer.write(obj);
    } finally {
      guard?.release();
    }
    if (!outcome.ok) throw outcome.error;
    return { hash, size: data.length, chunks: 1, storedBytes: outcome.storedBytes };
  }

  /** 'ok' only if the object decodes and hashes to its name. */
  private checkExisting(hash: string): ExistingState {
    // The common case (new content) without constructing an ENOENT exception.
    if (statSync(objectPath(this.root, hash), { throwIfNoEntry: false }) === undefined) return 'missing';
    try {
      return readObjectSync(this.readCtx, hash, true) === undefined ? 'missing' : 'ok';
    } catch (err) {
      if (err instanceof ForgeError && err.category === 'validation') return 'corrupt';
      throw err;
    }
  }

  private async batchRead(paths: string[]): Promise<Array<{ ok: true; data: Uint8Array } | { ok: false; error: ForgeError }>> {
    if (this.io) return this.io.batchRead(paths);
    return paths.map((p) => {
      try {
        return { ok: true as const, data: readFileSync(p) };
      } catch (err) {
        return { ok: false as const, error: toForgeError(err, { file: p, operation: 'read' }) };
      }
    });
  }

  /** Runs `fn` holding one handle of the shared budget, if there is one. */
  private async withHandle<T>(fn: () => T | Promise<T>): Promise<T> {
    const r = this.options.resources;
    if (r === undefined) return fn();
    const guard = r.tryAcquire(1) ?? (await r.acquire(1));
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }
}
