/**
 * The process's one pool of codec worker threads. Its workers do both jobs of the store:
 * they LZ4-compress for puts, and they decode objects for concurrent verified gets (the main
 * thread hashes what they decoded while they decode the next: a pipeline). Each worker loads
 * its own core instance (a core instance is not shareable across threads). Workers run the
 * compiled `dist/` JavaScript: under a TypeScript runner this file maps its own path to
 * `dist/host/node/store/codec/codec-worker.js`.
 *
 * Bounds (documented in docs/store-format.md, "Worker threads"): at most `size` workers (the
 * largest `workers` option of any store of the process, default min(4, cores)); a decode job
 * goes to a worker only while that worker has fewer than {@link DECODE_DEPTH} jobs queued
 * (callers decode inline otherwise); at most {@link STAGE_KEEP} bytes of idle staging buffers.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ForgeError } from '../../base/errors.js';
import { coreModule } from '../../core/loader.js';
import type { FrameOptions } from '../core-bindings.js';

/** What a worker does with one piece of content: one frame, a frame's blocks, or (`frames`) one frame per part. */
export type CompressJobKind = 'frame' | 'blocks' | 'frames';

export interface CompressRequest {
  op: 'compress';
  id: number;
  kind: CompressJobKind;
  data: Uint8Array;
  options: FrameOptions;
  /** For `frames`: `data` is these parts back to back, one frame each. */
  sizes?: number[];
}

/** Decode the object open as `fd` (fds are per process, so the worker reads it itself). */
export interface DecodeRequest {
  op: 'decode';
  id: number;
  fd: number;
  /** Bytes of the object file. */
  size: number;
  maxSize: number;
}

export type CodecRequest = CompressRequest | DecodeRequest;

export type CodecResponse =
  /** `sizes` (for `frames`): the frames are back to back in the buffer, these long. */
  | { id: number; ok: true; buffer: ArrayBuffer; offset: number; length: number; sizes?: number[] }
  | { id: number; ok: false; message: string; category: string };

type Done = Extract<CodecResponse, { ok: true }>;

/** A worker's `workerData`: it stores 1 into `ready` (an Int32Array's one element) once its core is loaded. */
export interface CodecWorkerData {
  ready: SharedArrayBuffer;
  /** This thread's compiled core, so the worker need not compile its own. */
  module?: WebAssembly.Module;
}

/**
 * What a worker made of one object: its content (every frame checksum checked; the caller
 * hashes it), or nothing (the caller reads it itself and reports any error the usual way).
 */
export type DecodeOutcome = { kind: 'content'; content: Uint8Array } | { kind: 'fallback' };

interface Job {
  reply(m: CodecResponse): void;
  /** The worker is gone (or the pool closed) before it replied. */
  lost(cause: unknown): void;
}

interface Slot {
  worker: Worker;
  /** Jobs sent and not answered (compress and decode alike). */
  busy: number;
  jobs: Map<number, Job>;
  /** Set by the worker itself (Atomics), so it is seen even while this thread never yields to its event loop. */
  ready: Int32Array;
}

/**
 * Jobs queued on a worker before a decode goes inline instead. Deep on purpose: a main thread
 * that decodes too delays the workers' replies and takes a core from them (measured: 2 workers
 * fed by an idle main thread beat 2 workers plus inline decoding), so inline is the overflow.
 */
export const DECODE_DEPTH = 8;

/**
 * Frame bytes that concurrent verified reads decode inline before they start the pool (when
 * puts have not started it already): about a second of decoding, so the workers' start-up
 * (~60 ms of CPU each, a loss outright when the other cores are busy) is paid only by sustained
 * concurrent reading. Counted over the whole process (every store), as the pool is.
 */
export const DECODE_POOL_AFTER_BYTES = 256 << 20;

/** Inputs are staged in shared buffers of these sizes (powers of two from 64 KiB). */
const STAGE_MIN = 1 << 16;
/** Idle staging buffers kept for reuse, in bytes at most. */
export const STAGE_KEEP = 16 << 20;

/** This thread's compiled core module for the workers, if it compiles here (else each worker reports the problem itself). */
function sharedModule(): { module?: WebAssembly.Module } {
  try {
    return { module: coreModule() };
  } catch {
    return {};
  }
}

function isReady(s: Slot): boolean {
  return Atomics.load(s.ready, 0) === 1;
}

/** Finds codec-worker.js next to this module, or in dist/ when running from the TypeScript sources. */
export function workerScriptPath(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  if (here.endsWith('.js')) {
    const p = join(dir, 'codec-worker.js');
    return existsSync(p) ? p : undefined;
  }
  // <root>/host/node/store/codec/codec-pool.ts -> <root>/dist/host/node/store/codec/codec-worker.js
  let root = dir;
  for (let i = 0; i < 4; i++) root = dirname(root);
  const p = join(root, 'dist', relative(root, dir), 'codec-worker.js');
  return existsSync(p) ? p : undefined;
}

/**
 * Worker threads that LZ4-compress and decode for the store.
 *
 * @example
 * ```ts
 * const pool = new CodecPool(2);
 * const blocks = await pool.run('blocks', data, { blockSize: 65536, contentSize: true, contentChecksum: true, blockChecksum: false });
 * const job = pool.tryDecode(fd, size, 1 << 30); // undefined: no worker has room, decode inline
 * await pool.close();
 * ```
 */
export class CodecPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** A worker failed: decoding no longer starts workers (reads stay inline rather than respawn in a loop). */
  private decodeFailed = false;
  /** Idle staging buffers by size; reused so that handing data to a worker writes warm memory. */
  private readonly stages = new Map<number, SharedArrayBuffer[]>();
  private stagedBytes = 0;
  readonly script: string;

  constructor(
    /** Most workers it runs at once (see {@link sharedCodecPool} for the process's one pool). */
    public size: number,
    script?: string,
  ) {
    const s = script ?? workerScriptPath();
    if (s === undefined) {
      throw new ForgeError('dependency', 'The compiled codec worker (dist/host/node/store/codec/codec-worker.js) is missing', {
        context: { operation: 'codec pool' },
        suggestions: ['Build the TypeScript with `npx tsc -p tsconfig.json` (npm ci does it), or set workers: 0.'],
      });
    }
    this.script = s;
  }

  /** Workers that have loaded their core (a job sent to one starts at once). */
  get ready(): number {
    let n = 0;
    for (const s of this.slots) if (isReady(s)) n++;
    return n;
  }

  /** Worker threads running or starting. */
  get threads(): number {
    return this.slots.length;
  }

  /** True once closed (callers then work inline). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts every worker now (they load in the background); `ready` counts them as they come up. */
  start(): void {
    while (!this.closed && this.slots.length < this.size) this.spawn();
  }

  /** Compresses `data` on the least busy worker. `data` is copied to the worker. */
  run(kind: 'frame' | 'blocks', data: Uint8Array, options: FrameOptions): Promise<Uint8Array> {
    return this.post(kind, [data], data.length, options).then((m) => new Uint8Array(m.buffer, m.offset, m.length));
  }

  /**
   * One frame per part, all compressed by one worker in one job: many small contents cost one
   * message instead of one each. Frames are byte-identical to `lz4Compress(part, options)`.
   */
  runMany(parts: readonly Uint8Array[], options: FrameOptions): Promise<Uint8Array[]> {
    let total = 0;
    for (const p of parts) total += p.length;
    return this.post('frames', parts, total, options).then((m) => {
      const out: Uint8Array[] = [];
      let at = m.offset;
      for (const n of m.sizes ?? []) {
        out.push(new Uint8Array(m.buffer, at, n));
        at += n;
      }
      if (out.length !== parts.length)
        throw new ForgeError('unknown', `codec worker returned ${out.length} frames for ${parts.length} parts`, { context: { operation: 'compress' } });
      return out;
    });
  }

  /**
   * Decodes the object open as `fd` (`size` bytes) on a worker with room for it, or returns
   * undefined when there is none (workers still starting, or each has {@link DECODE_DEPTH} jobs
   * queued): then the caller decodes inline. `fd` must stay open until the promise settles.
   * Never rejects: anything that goes wrong there is a `fallback` (the caller reads it again).
   */
  tryDecode(fd: number, size: number, maxSize: number): Promise<DecodeOutcome> | undefined {
    if (this.closed) return undefined;
    let best: Slot | undefined;
    for (const s of this.slots) if (isReady(s) && s.busy < DECODE_DEPTH && (best === undefined || s.busy < best.busy)) best = s;
    // Start another worker while under the bound; it takes jobs once it has loaded its core.
    if ((best === undefined || best.busy > 0) && this.slots.length < this.size && !this.decodeFailed) this.spawn();
    if (best === undefined) return undefined;
    const slot = best;
    return new Promise<DecodeOutcome>((resolve) => {
      this.send(
        slot,
        { op: 'decode', id: 0, fd, size, maxSize },
        {
          reply: (m) => resolve(m.ok ? { kind: 'content', content: new Uint8Array(m.buffer, m.offset, m.length) } : { kind: 'fallback' }),
          lost: () => resolve({ kind: 'fallback' }),
        },
      );
    });
  }

  /** Stops every worker; pending compress jobs fail, pending decodes fall back to their callers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ForgeError('unknown', 'codec pool closed while a job was pending', { context: { operation: 'compress' } });
    const slots = this.slots.splice(0);
    for (const s of slots) this.drop(s, err);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.stages.clear();
    this.stagedBytes = 0;
  }

  private post(kind: CompressJobKind, parts: readonly Uint8Array[], total: number, options: FrameOptions): Promise<Done> {
    if (this.closed) {
      return Promise.reject(new ForgeError('unknown', 'codec pool is closed', { context: { operation: 'compress' } }));
    }
    const slot = this.pick();
    // The caller's buffer can be neither shared nor transferred (that would detach it): the
    // worker gets a copy, in a shared buffer from a free list, so the copy writes memory that is
    // already mapped (a fresh buffer per job costs page faults: 2-4x the copy itself).
    const stage = this.stage(total);
    const input = new Uint8Array(stage, 0, total);
    let at = 0;
    for (const p of parts) {
      input.set(p, at);
      at += p.length;
    }
    return new Promise<Done>((resolve, reject) => {
      const msg: CompressRequest =
        kind === 'frames'
          ? { op: 'compress', id: 0, kind, data: input, options, sizes: parts.map((p) => p.length) }
          : { op: 'compress', id: 0, kind, data: input, options };
      this.send(slot, msg, {
        reply: (m) => {
          this.unstage(stage);
          if (m.ok) resolve(m);
          else
            reject(
              new ForgeError(m.category === 'validation' ? 'validation' : 'unknown', `codec worker: ${m.message}`, { context: { operation: 'compress' } }),
            );
        },
        lost: (cause) => {
          this.unstage(stage);
          reject(cause instanceof ForgeError ? cause : new ForgeError('dependency', 'a codec worker failed', { cause, context: { operation: 'compress' } }));
        },
      });
    });
  }

  /** Sends one job to `slot` (its id is assigned here). */
  private send(slot: Slot, msg: CodecRequest, job: Job): void {
    msg.id = this.nextId++;
    slot.jobs.set(msg.id, job);
    if (slot.busy++ === 0) slot.worker.ref();
    slot.worker.postMessage(msg);
  }

  /** A staging buffer of at least `n` bytes (a power of two). */
  private stage(n: number): SharedArrayBuffer {
    let size = STAGE_MIN;
    while (size < n) size *= 2;
    const sab = this.stages.get(size)?.pop();
    if (sab !== undefined) {
      this.stagedBytes -= size;
      return sab;
    }
    return new SharedArrayBuffer(size);
  }

  private unstage(sab: SharedArrayBuffer): void {
    if (this.closed || this.stagedBytes + sab.byteLength > STAGE_KEEP) return; // let it be collected
    let free = this.stages.get(sab.byteLength);
    if (free === undefined) this.stages.set(sab.byteLength, (free = []));
    free.push(sab);
    this.stagedBytes += sab.byteLength;
  }

  /** The worker for a compress job: least busy, one that is up before one still loading; a new one while under the bound. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (best === undefined) best = s;
      else {
        const r = isReady(s);
        const rb = isReady(best);
        if ((r && !rb) || (r === rb && s.busy < best.busy)) best = s;
      }
    }
    if (best !== undefined && (best.busy === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const data: CodecWorkerData = { ready: new SharedArrayBuffer(4), ...sharedModule() };
    const worker = new Worker(this.script, { workerData: data });
    const slot: Slot = { worker, busy: 0, jobs: new Map(), ready: new Int32Array(data.ready) };
    worker.on('message', (m: CodecResponse) => {
      const job = slot.jobs.get(m.id);
      if (job === undefined) return;
      slot.jobs.delete(m.id);
      if (--slot.busy === 0) slot.worker.unref();
      job.reply(m);
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`codec worker exited with code ${code}`));
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref(); // an idle pool never keeps the process alive
    this.slots.push(slot);
    return slot;
  }

  /** A worker failed: it is dropped with its own jobs (a later compress job starts another). */
  private fail(slot: Slot, cause: unknown): void {
    this.decodeFailed = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    this.drop(slot, new ForgeError('dependency', 'a codec worker failed', { cause, context: { operation: 'compress' } }));
  }

  private drop(slot: Slot, cause: unknown): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.busy = 0;
    for (const job of jobs) job.lost(cause);
  }
}

let shared: CodecPool | undefined;
let inlineDecodeBytes = 0;

/**
 * The process's one codec pool, shared by every store (and so by the puts and gets of all of
 * them): started once, its workers stay up between stores (idle workers are unref'd, so they
 * never keep the process alive). Its size bound is the largest `workers` any store asked for
 * (the store option, default min(4, available parallelism)); `store.compression.poolSize`
 * reports it.
 */
export function sharedCodecPool(size: number): CodecPool {
  if (shared === undefined || shared.isClosed) shared = new CodecPool(size);
  else if (size > shared.size) shared.size = size;
  return shared;
}

/** The size bound of the process's shared codec pool, or 0 when no store has made it. */
export function sharedCodecPoolSize(): number {
  return shared?.size ?? 0;
}

/**
 * The shared pool for concurrent verified reads of `frameBytes`-byte objects, or undefined
 * (decode inline): when its worker script is missing, or while the pool has no worker and
 * concurrent reads have decoded less than {@link DECODE_POOL_AFTER_BYTES} inline. Workers that
 * puts started are used at once (they are warm; nothing to pay).
 */
export function decodePool(size: number, frameBytes: number): CodecPool | undefined {
  if (shared !== undefined && !shared.isClosed && shared.threads > 0) {
    if (size > shared.size) shared.size = size;
    return shared;
  }
  inlineDecodeBytes += frameBytes;
  if (inlineDecodeBytes < DECODE_POOL_AFTER_BYTES || workerScriptPath() === undefined) return undefined;
  return sharedCodecPool(size);
}
