/**
 * A small pool of worker threads that compress for the store. Each worker
 * loads its own core instance (a core instance is not shareable across
 * threads). Workers run the compiled `dist/` JavaScript: under a TypeScript
 * runner this file maps its own path to `dist/host/node/store/codec/compress-worker.js`.
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
  id: number;
  kind: CompressJobKind;
  data: Uint8Array;
  options: FrameOptions;
  /** For `frames`: `data` is these parts back to back, one frame each. */
  sizes?: number[];
}

export type CompressResponse =
  /** `sizes` (for `frames`): the frames are back to back in the buffer, these long. */
  | { id: number; ok: true; buffer: ArrayBuffer; offset: number; length: number; sizes?: number[] }
  | { id: number; ok: false; message: string; category: string };

type CompressDone = Extract<CompressResponse, { ok: true }>;

/** A worker's `workerData`: it stores 1 into `ready` (an Int32Array's one element) once its core is loaded. */
export interface CompressWorkerData {
  ready: SharedArrayBuffer;
  /** This thread's compiled core, so the worker need not compile its own. */
  module?: WebAssembly.Module;
}

interface Pending {
  resolve: (out: CompressDone) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** Set by the worker itself (Atomics), so it is seen even while this thread never yields to its event loop. */
  ready: Int32Array;
}

/** Inputs are staged in shared buffers of these sizes (powers of two from 64 KiB). */
const STAGE_MIN = 1 << 16;
/** Idle staging buffers kept for reuse, in bytes at most. */
const STAGE_KEEP = 16 << 20;

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

/** Finds compress-worker.js next to this module, or in dist/ when running from the TypeScript sources. */
export function workerScriptPath(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  if (here.endsWith('.js')) {
    const p = join(dir, 'compress-worker.js');
    return existsSync(p) ? p : undefined;
  }
  // <root>/host/node/store/codec/compress-pool.ts -> <root>/dist/host/node/store/codec/compress-worker.js
  let root = dir;
  for (let i = 0; i < 4; i++) root = dirname(root);
  const p = join(root, 'dist', relative(root, dir), 'compress-worker.js');
  return existsSync(p) ? p : undefined;
}

/**
 * Worker threads that LZ4-compress for the store.
 *
 * @example
 * ```ts
 * const pool = new CompressPool(2);
 * const blocks = await pool.run('blocks', data, { blockSize: 65536, contentSize: true, contentChecksum: true, blockChecksum: false });
 * await pool.close();
 * ```
 */
export class CompressPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Idle staging buffers by size; reused so that handing data to a worker writes warm memory. */
  private readonly stages = new Map<number, SharedArrayBuffer[]>();
  private stagedBytes = 0;
  readonly script: string;

  constructor(
    /** Most workers it runs at once (see {@link sharedCompressPool} for the process's one pool). */
    public size: number,
    script?: string,
  ) {
    const s = script ?? workerScriptPath();
    if (s === undefined) {
      throw new ForgeError('dependency', 'The compiled compress worker (dist/host/node/store/codec/compress-worker.js) is missing', {
        context: { operation: 'compress pool' },
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
        throw new ForgeError('unknown', `compress worker returned ${out.length} frames for ${parts.length} parts`, { context: { operation: 'compress' } });
      return out;
    });
  }

  private post(kind: CompressJobKind, parts: readonly Uint8Array[], total: number, options: FrameOptions): Promise<CompressDone> {
    if (this.closed) {
      return Promise.reject(new ForgeError('unknown', 'compress pool is closed', { context: { operation: 'compress' } }));
    }
    const slot = this.pick();
    const id = this.nextId++;
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
    return new Promise<CompressDone>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (out) => {
          this.done(slot);
          this.unstage(stage);
          resolve(out);
        },
        reject: (err) => {
          this.done(slot);
          this.unstage(stage);
          reject(err);
        },
      });
      slot.busy++;
      if (slot.busy === 1) slot.worker.ref();
      const msg: CompressRequest =
        kind === 'frames' ? { id, kind, data: input, options, sizes: parts.map((p) => p.length) } : { id, kind, data: input, options };
      slot.worker.postMessage(msg);
    });
  }

  /** Stops every worker; pending jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ForgeError('unknown', 'compress pool closed while a job was pending', { context: { operation: 'compress' } });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    this.stages.clear();
    this.stagedBytes = 0;
  }

  /** A staging buffer of at least `n` bytes (a power of two). */
  private stage(n: number): SharedArrayBuffer {
    let size = STAGE_MIN;
    while (size < n) size *= 2;
    const free = this.stages.get(size);
    const sab = free?.pop();
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

  private pick(): Slot {
    // Least busy, a worker that is up before one still loading.
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
    const data: CompressWorkerData = { ready: new SharedArrayBuffer(4), ...sharedModule() };
    const worker = new Worker(this.script, { workerData: data });
    const slot: Slot = { worker, busy: 0, ready: new Int32Array(data.ready) };
    worker.on('message', (m: CompressResponse) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m);
      else
        p.reject(
          new ForgeError(m.category === 'validation' ? 'validation' : 'unknown', `compress worker: ${m.message}`, { context: { operation: 'compress' } }),
        );
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`compress worker exited with code ${code}`));
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref(); // an idle pool never keeps the process alive
    this.slots.push(slot);
    return slot;
  }

  private done(slot: Slot): void {
    slot.busy--;
    if (slot.busy === 0) slot.worker.unref();
  }

  private fail(slot: Slot, cause: unknown): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    // Which jobs ran on this worker is not tracked per slot; fail them all rather than hang.
    const err = new ForgeError('dependency', 'a compress worker failed', { cause, context: { operation: 'compress' } });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

let shared: CompressPool | undefined;

/**
 * The process's one compress pool, shared by every store (and so by concurrent puts of all of
 * them): started once, its workers stay up between stores (idle workers are unref'd, so they
 * never keep the process alive). Its size bound is the largest `workers` any store asked for
 * (the store option, default min(4, available parallelism)); `store.compression.poolSize`
 * reports it.
 */
export function sharedCompressPool(size: number): CompressPool {
  if (shared === undefined) shared = new CompressPool(size);
  else if (size > shared.size) shared.size = size;
  return shared;
}

/** The size bound of the process's shared compress pool, or 0 when no store has started it. */
export function sharedCompressPoolSize(): number {
  return shared?.size ?? 0;
}
