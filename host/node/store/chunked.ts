/**
 * Chunked content: content larger than the chunk threshold is cut into FastCDC chunks (each an
 * object), listed in a manifest object, and named by a manifest ref (see chunking.ts for the
 * format). A file is streamed: read a window, cut, hash, compress and write chunk by chunk, so
 * memory does not grow with the file (a window of `streamWindow` bytes plus one chunk carried
 * over). Reading back to a file streams the same way, chunk by chunk.
 */
import { constants, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { open as openFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { FileIdentity } from '../base/platform-io.js';
import { changedBetween, changedError, checkOpened, identityOf } from '../base/safe-read.js';
import { decodeManifest, encodeManifest, splitAt, type Manifest, type ManifestChunk } from './chunking.js';
import type { CdcParams, CoreBindings } from './core-bindings.js';
import { STORE_DIR_MODE } from './format.js';
import type { Hasher } from './hasher.js';
import type { KeyedLocks } from './keyed-locks.js';
import { manifestRefPath, objectPath } from './object-path.js';
import { notFoundError, readObjectSync, type ReadContext } from './read.js';
import { fsyncDirAsync, tmpName, writeFileDurablyAsync, type ObjectWriter, type PendingObject, type WriteOutcome } from './write.js';

const enc = new TextEncoder();
const SAFE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** What a chunked put stored. */
export interface ChunkedPut {
  hash: string;
  size: number;
  chunks: number;
  manifest: string;
  storedBytes: number;
  identity?: FileIdentity;
}

export interface ChunkedDeps {
  root: string;
  hasher: Hasher;
  core: CoreBindings;
  cdc: CdcParams;
  readCtx: ReadContext;
  writer: ObjectWriter;
  locks: KeyedLocks;
  sync: boolean;
  /** Bytes read per step when streaming a file (at least 2 × the largest chunk). */
  streamWindow: number;
  touch(hash: string): void;
  pending(content: Uint8Array, batched: boolean, knownHash?: string): PendingObject;
}

/** The chunked half of the store (BlobStore delegates to it). */
export class ChunkedContent {
  constructor(private readonly d: ChunkedDeps) {}

  /** Chunks, then the manifest object, then the ref: each durable before the next names it. */
  async putBytes(data: Uint8Array): Promise<ChunkedPut> {
    const hash = this.d.hasher.hex(data);
    const parts = splitAt(data, this.d.core.cdcCutPoints(data, this.d.cdc));
    const chunks: ManifestChunk[] = [];
    const storedBytes = await this.writeChunks(parts, parts.length > 1, chunks, new Set(), data.length);
    return this.finish(hash, data.length, chunks, storedBytes);
  }

  /**
   * Streams the file at `path` into chunks. With `safe`, it is opened O_NOFOLLOW|O_NONBLOCK,
   * must be a regular file (the `expect`ed dev/ino when given), and must not change while read
   * (code `ECHANGED`). Returns undefined, having read nothing, when the file is `threshold` bytes
   * or smaller (the caller stores it as one object).
   */
  async putStream(
    path: string,
    threshold: number,
    safe: boolean,
    expect?: { dev: bigint; ino: bigint },
  ): Promise<ChunkedPut | { small: Uint8Array; identity?: FileIdentity }> {
    let fh: FileHandle;
    try {
      fh = await openFile(path, safe ? SAFE_FLAGS : constants.O_RDONLY);
    } catch (err) {
      throw toForgeError(err, { file: path, operation: 'putFile' });
    }
    try {
      const before = await fh.stat({ bigint: true });
      if (safe) {
        const bad = checkOpened(path, before, expect, 'putFile');
        if (bad) throw bad;
      }
      const checkAfter = async (read: number): Promise<FileIdentity | undefined> => {
        if (!safe) return undefined;
        const after = await fh.stat({ bigint: true });
        if (changedBetween(before, after) || BigInt(read) !== after.size) throw changedError(path, 'size or times moved during the read', 'putFile');
        return identityOf(after);
      };
      if (before.size <= BigInt(threshold)) {
        const small = new Uint8Array(await fh.readFile());
        const identity = await checkAfter(small.length);
        return identity ? { small, identity } : { small };
      }
      const stream = this.d.hasher.stream();
      const chunks: ManifestChunk[] = [];
      let storedBytes = 0;
      let carry: Uint8Array = new Uint8Array(0);
      let position = 0;
      const seen = new Set<string>();
      for (;;) {
        const buf = new Uint8Array(carry.length + this.d.streamWindow);
        buf.set(carry);
        let n = 0;
        // Fill the window (a short read is not the end; 0 is).
        while (carry.length + n < buf.length) {
          const { bytesRead } = await fh.read(buf, carry.length + n, buf.length - carry.length - n, position);
          if (bytesRead === 0) break;
          n += bytesRead;
          position += bytesRead;
        }
        const eof = carry.length + n < buf.length;
        const data = buf.subarray(0, carry.length + n);
        if (n > 0) stream.update(data.subarray(carry.length));
        if (data.length === 0) break;
        const parts = splitAt(data, this.d.core.cdcCutPoints(data, this.d.cdc));
        // The last piece of a window is cut by the window's end, not by the content: it waits
        // for the next window (so cut points are those of the whole file).
        const last = eof ? undefined : parts.pop();
        storedBytes += await this.writeChunks(parts, true, chunks, seen, Number(before.size));
        if (eof) break;
        carry = last!.slice();
      }
      const identity = await checkAfter(position);
      const put = await this.finish(stream.hex(), position, chunks, storedBytes);
      return identity ? { ...put, identity } : put;
    } catch (err) {
      throw err instanceof ForgeError ? err : toForgeError(err, { file: path, operation: 'putFile' });
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** The manifest object `hash`'s ref names, or undefined when `hash` is not chunked content. */
  manifestOf(hash: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(manifestRefPath(this.d.root, hash), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw toForgeError(err, { file: manifestRefPath(this.d.root, hash), operation: 'get' });
    }
    const m = /^([0-9a-f]{64})\n$/.exec(text);
    if (!m) {
      throw new ForgeError('validation', `Manifest ref ${manifestRefPath(this.d.root, hash)} is corrupt`, {
        context: { file: manifestRefPath(this.d.root, hash), operation: 'get', expected: hash },
        suggestions: ['Run `forge verify`; putting the same content again repairs it.'],
      });
    }
    return m[1]!;
  }

  readManifest(manifestHash: string): Manifest {
    const bytes = readObjectSync(this.d.readCtx, manifestHash, true);
    if (bytes === undefined) throw notFoundError(this.d.root, manifestHash);
    return decodeManifest(bytes, objectPath(this.d.root, manifestHash));
  }

  /** The whole content in memory (see {@link writeTo} for content too large for that). */
  reassemble(hash: string, manifestHash: string, verify: boolean): Uint8Array {
    const manifest = this.readManifest(manifestHash);
    if (manifest.size > 0x7fffffff) {
      throw new ForgeError('validation', `${hash} is ${manifest.size} bytes, too large to return in memory`, {
        context: { operation: 'get', hash, size: manifest.size, limit: 0x7fffffff },
        suggestions: ['Read it with store.getToFile(hash, dest) (or getStream), which streams chunk by chunk.'],
      });
    }
    const out = new Uint8Array(manifest.size);
    let at = 0;
    const s = verify ? this.d.hasher.stream() : undefined;
    for (const part of this.chunksOf(hash, manifest, verify)) {
      out.set(part, at);
      at += part.length;
    }
    if (s) {
      s.update(out);
      this.checkWhole(hash, manifestHash, manifest, s.hex());
    }
    return out;
  }

  /** Each chunk of `manifest`, in order, checked against its size (and its hash when `verify`). */
  *chunksOf(hash: string, manifest: Manifest, verify: boolean): Generator<Uint8Array> {
    let prev: { hash: string; part: Uint8Array } | undefined;
    for (const c of manifest.chunks) {
      // A run of one chunk (zeros, a repeated block) is read and checked once.
      if (prev?.hash === c.hash) {
        yield prev.part;
        continue;
      }
      const part = readObjectSync(this.d.readCtx, c.hash, verify);
      if (part === undefined) throw notFoundError(this.d.root, c.hash);
      if (part.length !== c.size) {
        throw new ForgeError('validation', `Chunk ${c.hash} of ${hash} has ${part.length} bytes, the manifest says ${c.size}`, {
          context: { file: objectPath(this.d.root, c.hash), operation: 'get', expected: hash },
          suggestions: ['Run `forge verify`.'],
        });
      }
      prev = { hash: c.hash, part };
      yield part;
    }
  }

  /** Throws the integrity error unless the reassembled content hashes to `hash`. */
  checkWhole(hash: string, manifestHash: string, manifest: Manifest, actual: string): void {
    if (actual !== hash || manifest.sha256 !== hash) {
      throw new ForgeError('validation', `Chunked content ${manifestRefPath(this.d.root, hash)} is corrupt: expected SHA-256 ${hash}, got ${actual}`, {
        context: { file: manifestRefPath(this.d.root, hash), operation: 'get', expected: hash, actual, manifest: manifestHash },
        suggestions: ['Run `forge verify` to list every damaged object.', 'Putting the same content again repairs it.'],
      });
    }
  }

  /** Writes the chunks not `seen` in this put yet (a repeated chunk, e.g. of zeros, is written once); lists all in `into`. */
  private async writeChunks(parts: Uint8Array[], batched: boolean, into: ManifestChunk[], seen: Set<string>, partOf: number): Promise<number> {
    const objs: PendingObject[] = [];
    for (const p of parts) {
      const hash = this.d.hasher.hex(p);
      into.push({ hash, size: p.length });
      if (seen.has(hash)) continue;
      seen.add(hash);
      objs.push({ ...this.d.pending(p, batched, hash), partOf });
    }
    if (objs.length === 0) return 0;
    return sumStored(await this.d.writer.writeBatch(objs));
  }

  private async finish(hash: string, size: number, chunks: ManifestChunk[], stored: number): Promise<ChunkedPut> {
    const manifestBytes = encodeManifest({ size, sha256: hash, chunks });
    const manifestHash = this.d.hasher.hex(manifestBytes);
    const mo = await this.d.writer.writeBatch([{ hash: manifestHash, content: manifestBytes }]);
    const storedBytes = stored + sumStored(mo);
    await this.writeRef(hash, manifestHash);
    return { hash, size, chunks: chunks.length, manifest: manifestHash, storedBytes };
  }

  private async writeRef(hash: string, manifestHash: string): Promise<void> {
    const path = manifestRefPath(this.d.root, hash);
    const text = `${manifestHash}\n`;
    const release = await this.d.locks.lock(`ref:${hash}`);
    try {
      this.d.touch(hash);
      let current: string | undefined;
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        current = undefined;
      }
      if (current === text) return;
      const dir = join(path, '..');
      mkdirSync(dir, { recursive: true, mode: STORE_DIR_MODE });
      const tmp = tmpName(this.d.root, hash);
      await writeFileDurablyAsync(tmp, enc.encode(text), this.d.sync);
      renameSync(tmp, path);
      if (this.d.sync) await fsyncDirAsync(dir);
    } catch (err) {
      throw toForgeError(err, { file: path, operation: 'put' });
    } finally {
      release();
    }
  }
}

/** Creates `dest` (which must not exist) and streams `parts` into it; removes it on failure. All-zero parts become holes. */
export async function writePartsToFile(dest: string, size: number, parts: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, mode: number): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await openFile(dest, 'wx', mode);
  } catch (err) {
    throw toForgeError(err, { file: dest, operation: 'getToFile' });
  }
  try {
    let at = 0;
    for await (const p of parts) {
      if (!allZero(p)) {
        let done = 0;
        while (done < p.length) done += (await fh.write(p, done, p.length - done, at + done)).bytesWritten;
      }
      at += p.length;
    }
    await fh.truncate(size); // sizes a file that ends in a hole
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(dest).catch(() => undefined);
    throw err instanceof ForgeError ? err : toForgeError(err, { file: dest, operation: 'getToFile' });
  }
}

function allZero(b: Uint8Array): boolean {
  // Word-wise over the aligned middle; chunks are views at arbitrary offsets.
  let i = 0;
  const end = b.length;
  while (i < end && (b.byteOffset + i) % 4 !== 0) if (b[i++] !== 0) return false;
  const words = Math.floor((end - i) / 4);
  const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
  for (let k = 0; k < w.length; k++) if (w[k] !== 0) return false;
  for (i += words * 4; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

function sumStored(outcomes: Map<string, WriteOutcome>): number {
  let n = 0;
  for (const [hash, o] of outcomes) {
    if (!o.ok) throw o.error.withContext({ hash });
    n += o.storedBytes;
  }
  return n;
}
