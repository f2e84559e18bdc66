/**
 * The read side of the store: get (objects and reassembled chunked content), getMany,
 * streaming reads, stat, and the check of an existing object a put relies on.
 */
import { existsSync, statSync } from 'node:fs';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import type { ResourceManager } from '../base/resources.js';
import { batchReadFiles } from './batch-read.js';
import { writePartsToFile, type ChunkedContent } from './chunked.js';
import { parseFrameHeader } from './codec/frame-codec.js';
import type { Hasher } from './hasher.js';
import { manifestRefPath, objectPath } from './object-path.js';
import { exists, readHead, type BlobStat, type GetManyResult } from './options.js';
import { decodeObject, notFoundError, readObject, readObjectSync, type ReadContext } from './read.js';
import type { ExistingState } from './write.js';

export interface GetDeps {
  root: string;
  hasher: Hasher;
  readCtx: ReadContext;
  chunked: ChunkedContent;
  io: PlatformIO | undefined;
  resources: ResourceManager | undefined;
}

/** Reads for BlobStore (which checks that it is open and that hashes are well-formed first). */
export class Getter {
  /** Gets between their start and their object read (see get). */
  private inFlight = 0;

  constructor(private readonly d: GetDeps) {}

  /** The content of `hash`, verified against it when `verify`. Chunked content is reassembled. */
  async get(hash: string, verify: boolean): Promise<Uint8Array> {
    this.inFlight++;
    try {
      // One microtask, so that gets started in the same tick count each other: a burst of them
      // hands large objects to the codec workers, a lone get decodes inline.
      await undefined;
      const concurrent = this.inFlight > 1;
      const content = await this.withHandle(() => readObject(this.d.readCtx, hash, verify, concurrent));
      if (content !== undefined) return content;
    } finally {
      this.inFlight--;
    }
    const manifestHash = this.d.chunked.manifestOf(hash);
    if (manifestHash === undefined) throw notFoundError(this.d.root, hash);
    return this.d.chunked.reassemble(hash, manifestHash, verify);
  }

  /** Contents of many hashes: object files are read with one batchRead. One result per hash, in order. */
  async getMany(hashes: readonly string[], verify: boolean): Promise<GetManyResult[]> {
    const root = this.d.root;
    const read = await batchReadFiles(
      this.d.io,
      hashes.map((h) => objectPath(root, h)),
    );
    return Promise.all(
      read.map(async (r, i): Promise<GetManyResult> => {
        const hash = hashes[i]!;
        try {
          if (r.ok) return { ok: true, data: decodeObject(this.d.readCtx, hash, objectPath(root, hash), r.data, verify) };
          if (r.error.context.code !== 'ENOENT') return { ok: false, error: r.error };
          return { ok: true, data: await this.get(hash, verify) };
        } catch (err) {
          return { ok: false, error: toForgeError(err, { operation: 'getMany', hash }) };
        }
      }),
    );
  }

  /** See BlobStore.getToFile. */
  async getToFile(hash: string, dest: string, verify: boolean, mode: number): Promise<{ size: number }> {
    const chunked = this.d.chunked;
    const manifestHash = chunked.manifestOf(hash);
    if (manifestHash === undefined) {
      const data = await this.get(hash, verify);
      await writePartsToFile(dest, data.length, [data], mode);
      return { size: data.length };
    }
    const manifest = chunked.readManifest(manifestHash);
    const stream = verify ? this.d.hasher.stream() : undefined;
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

  /** See BlobStore.getStream. */
  async *stream(hash: string, verify: boolean): AsyncGenerator<Uint8Array> {
    const chunked = this.d.chunked;
    const manifestHash = chunked.manifestOf(hash);
    if (manifestHash === undefined) {
      yield await this.get(hash, verify);
      return;
    }
    const manifest = chunked.readManifest(manifestHash);
    const stream = verify ? this.d.hasher.stream() : undefined;
    for (const p of chunked.chunksOf(hash, manifest, verify)) {
      stream?.update(p);
      yield p;
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the consumer and the loop run
    }
    if (stream) chunked.checkWhole(hash, manifestHash, manifest, stream.hex());
  }

  /** True if `hash` is stored (as an object or as chunked content). Does not verify. */
  has(hash: string): boolean {
    return exists(objectPath(this.d.root, hash)) || exists(manifestRefPath(this.d.root, hash));
  }

  /** Size and layout of `hash`, or undefined if it is not stored. Reads only headers. */
  async stat(hash: string): Promise<BlobStat | undefined> {
    const root = this.d.root;
    const path = objectPath(root, hash);
    const head = readHead(path);
    if (head !== undefined) {
      const info = parseFrameHeader(head.bytes);
      if (info?.contentSize !== undefined) {
        return { hash, size: info.contentSize, storedSize: head.fileSize, chunked: false, chunks: 1, path };
      }
      const content = await this.get(hash, true);
      return { hash, size: content.length, storedSize: head.fileSize, chunked: false, chunks: 1, path };
    }
    const manifestHash = this.d.chunked.manifestOf(hash);
    if (manifestHash === undefined) return undefined;
    const manifest = this.d.chunked.readManifest(manifestHash);
    let storedSize = statSync(objectPath(root, manifestHash)).size;
    for (const c of new Set(manifest.chunks.map((c) => c.hash))) {
      const s = readHead(objectPath(root, c));
      storedSize += s?.fileSize ?? 0;
    }
    return {
      hash,
      size: manifest.size,
      storedSize,
      chunked: true,
      chunks: manifest.chunks.length,
      manifest: manifestHash,
      path: manifestRefPath(root, hash),
    };
  }

  /** 'ok' only if the object decodes and hashes to its name. */
  checkExisting(hash: string): ExistingState {
    // The common case (new content) without constructing an ENOENT exception, nor a Stats
    // object (access(2): half the cost of a stat here).
    if (!existsSync(objectPath(this.d.root, hash))) return 'missing';
    try {
      return readObjectSync(this.d.readCtx, hash, true) === undefined ? 'missing' : 'ok';
    } catch (err) {
      if (err instanceof ForgeError && err.category === 'validation') return 'corrupt';
      throw err;
    }
  }

  /** Runs `fn` holding one handle of the shared budget, if there is one. */
  private async withHandle<T>(fn: () => T | Promise<T>): Promise<T> {
    const r = this.d.resources;
    if (r === undefined) return fn();
    const guard = r.tryAcquire(1) ?? (await r.acquire(1));
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }
}
