/**
 * The put side of the store: single puts, putMany, and the pending objects they hand to the
 * writer (hashed, their compression started early when workers make it).
 */
import { ForgeError, toForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import type { ResourceManager } from '../base/resources.js';
import { batchReadFiles } from './batch-read.js';
import type { ChunkedContent } from './chunked.js';
import type { WriteCompressor } from './codec/write-compress.js';
import type { Hasher } from './hasher.js';
import type { PutManyItem, PutManyResult, PutResult } from './options.js';
import type { ObjectWriter, PendingObject, WriteOutcome } from './write.js';

export interface PutDeps {
  hasher: Hasher;
  writer: ObjectWriter;
  compressor: WriteCompressor;
  /** Set once the store has built it (it needs {@link Putter.pendingObject} itself). */
  chunked: () => ChunkedContent;
  chunkThreshold: number;
  io: PlatformIO | undefined;
  resources: ResourceManager | undefined;
}

/** Puts for BlobStore (which checks that it is open first). */
export class Putter {
  constructor(private readonly d: PutDeps) {}

  /** `content` hashed, its compression started first when it goes to the workers (they compress while this thread hashes). */
  pendingObject(content: Uint8Array, batched: boolean, knownHash?: string): PendingObject {
    const frame = this.d.compressor.early(content, batched);
    // Marked handled: if the object turns out to exist (or the put fails first) nobody awaits it.
    frame?.catch(() => undefined);
    const hash = knownHash ?? this.d.hasher.hex(content);
    // Undefined: the compressor chose this thread (the writer must not ask it a second time).
    return frame === undefined ? { hash, content, inline: true } : { hash, content, frame };
  }

  /** Stores `data` (chunked when larger than the chunk threshold); resolves once it is durable. */
  async put(data: Uint8Array): Promise<PutResult> {
    if (!(data instanceof Uint8Array)) {
      throw new ForgeError('validation', `put: data must be a Uint8Array (or Buffer), got ${typeof data}`, {
        context: { operation: 'put' },
      });
    }
    if (data.length > this.d.chunkThreshold) return this.d.chunked().putBytes(data);
    const obj = this.pendingObject(data, false);
    const hash = obj.hash;
    const r = this.d.resources;
    // One handle of the shared budget while the file is open (taken without waiting when free).
    const guard = r === undefined ? undefined : (r.tryAcquire(1) ?? (await r.acquire(1)));
    let outcome: WriteOutcome;
    try {
      outcome = await this.d.writer.write(obj);
    } finally {
      guard?.release();
    }
    if (!outcome.ok) throw outcome.error;
    return { hash, size: data.length, chunks: 1, storedBytes: outcome.storedBytes };
  }

  /** See BlobStore.putMany. */
  async putMany(items: readonly PutManyItem[]): Promise<PutManyResult[]> {
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
      const read = await batchReadFiles(this.d.io, paths);
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
      if (c.length > this.d.chunkThreshold) {
        chunked.push(i);
        continue;
      }
      const hash = this.d.hasher.hex(c);
      const first = byHash.get(hash);
      if (first !== undefined) {
        small.push({ slot: i, obj: { hash, content: c }, outcome: first, repeat: true });
        continue;
      }
      const obj = this.pendingObject(c, batched, hash);
      const outcome = this.d.writer.write(obj, batched);
      byHash.set(hash, outcome);
      small.push({ slot: i, obj, outcome, repeat: false });
    }
    for (const i of chunked) {
      try {
        results[i] = { ok: true, ...(await this.d.chunked().putBytes(contents[i]!)) };
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
}
