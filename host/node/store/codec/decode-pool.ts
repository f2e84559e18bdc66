/**
 * Worker threads that decode objects for concurrent verified gets (the caller hashes them:
 * a pipeline, the main thread hashing one object while the workers decode the next).
 * A lone get decodes on the calling thread (a round trip to a worker would only
 * add latency); when several gets are waiting, large objects go to the workers
 * so decoding and hashing use every core. The main thread opens the file and
 * passes the fd (fds are per process), so errors such as ENOENT stay on the
 * main thread's ordinary path.
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { workerScriptPath } from './compress-pool.js';

export interface DecodeRequest {
  id: number;
  fd: number;
  /** Bytes of the object file. */
  size: number;
  maxSize: number;
}

export type DecodeResponse =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'content'; buffer: ArrayBuffer; length: number }
  /** Not decoded there: the caller reads the object itself (`error` says why, if a failure). */
  | { id: number; kind: 'fallback'; error?: string };

/**
 * What a worker made of one object: its content (every frame checksum checked; the caller
 * hashes it, so the main thread hashes one object while the workers decode the next), or nothing
 * (the caller reads it itself).
 */
export type DecodeOutcome = { kind: 'content'; content: Uint8Array } | { kind: 'fallback' };

interface Slot {
  worker: Worker;
  ready: boolean;
  busy: number;
  jobs: Map<number, (o: DecodeOutcome) => void>;
}

/**
 * Jobs queued per worker before callers decode inline instead. Deep on purpose: a main thread
 * that decodes too delays the workers' replies and takes a core from them (measured: 2 workers
 * fed by an idle main thread beat 2 workers plus inline decoding), so inline is the overflow.
 */
const DEPTH = 8;

/**
 * Frame bytes that concurrent verified reads decode inline before decode workers start (see
 * {@link sharedDecodePool}): about a second of decoding, so the workers' start-up (~60 ms of CPU
 * each, and a loss outright when the other cores are busy) is paid only by sustained concurrent
 * reading. Counted over the whole process (every store), as the pool is.
 */
export const DECODE_POOL_AFTER_BYTES = 256 << 20;

let shared: DecodePool | undefined;
let inlineBytes = 0;

/**
 * The process's one decode pool, shared by every store: started once, when concurrent verified
 * reads (of any store) have decoded {@link DECODE_POOL_AFTER_BYTES} inline, and kept up between
 * stores (idle workers are unref'd, so they never keep the process alive). Undefined until then,
 * or when the compiled worker is missing. Its size bound is the largest `size` asked for (the
 * store option `workers`).
 */
export function sharedDecodePool(size: number, frameBytes: number): DecodePool | undefined {
  if (shared !== undefined && !shared.isClosed) {
    if (size > shared.size) shared.size = size;
    return shared;
  }
  inlineBytes += frameBytes;
  if (inlineBytes < DECODE_POOL_AFTER_BYTES) return undefined;
  const script = decodeWorkerPath();
  if (script !== undefined) shared = new DecodePool(size, script);
  return shared;
}

/** decode-worker.js beside the compiled compress worker (same dist/ directory), if built. */
export function decodeWorkerPath(): string | undefined {
  const compress = workerScriptPath();
  if (compress === undefined) return undefined;
  const p = join(dirname(compress), 'decode-worker.js');
  return existsSync(p) ? p : undefined;
}

/**
 * Decode workers, started on first use.
 *
 * @example
 * ```ts
 * const pool = new DecodePool(2, scriptPath);
 * const outcome = pool.tryRun(fd, size, 1 << 30); // undefined: every worker busy, decode inline
 * await pool.close();
 * ```
 */
export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private failed = false;

  constructor(
    /** Most workers it runs at once (see {@link sharedDecodePool} for the process's one pool). */
    public size: number,
    readonly script: string,
  ) {}

  /** True once closed (callers then decode inline). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Decodes the object open as `fd` (`size` bytes) on a worker with room for it, or returns
   * undefined when there is none (workers still starting, or all busy): then the caller decodes
   * inline. `fd` must stay open until the promise settles.
   */
  tryRun(fd: number, size: number, maxSize: number): Promise<DecodeOutcome> | undefined {
    if (this.closed) return undefined;
    const slot = this.pick();
    if (slot === undefined) return undefined;
    const id = this.nextId++;
    return new Promise<DecodeOutcome>((resolve) => {
      slot.jobs.set(id, resolve);
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, fd, size, maxSize } satisfies DecodeRequest);
    });
  }

  /** Workers that have loaded their core and take jobs. */
  get readyWorkers(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  /** Stops every worker; jobs still pending fall back to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) this.drop(s);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.ready && s.busy < DEPTH && (best === undefined || s.busy < best.busy)) best = s;
    if (best !== undefined && best.busy === 0) return best;
    // Start another worker while under the limit; it takes jobs once it has loaded its core.
    // After a worker failed, none is started again: reads stay inline rather than respawn in a loop.
    if (this.slots.length < this.size && !this.failed) this.spawn();
    return best;
  }

  private spawn(): void {
    const worker = new Worker(this.script);
    const slot: Slot = { worker, ready: false, busy: 0, jobs: new Map() };
    worker.on('message', (m: DecodeResponse) => {
      if (m.kind === 'ready') {
        slot.ready = true;
        return;
      }
      const resolve = slot.jobs.get(m.id);
      if (resolve === undefined) return;
      slot.jobs.delete(m.id);
      if (--slot.busy === 0) slot.worker.unref();
      if (m.kind === 'content') resolve({ kind: 'content', content: new Uint8Array(m.buffer, 0, m.length) });
      else resolve({ kind: 'fallback' });
    });
    // A worker that fails or exits is dropped; its jobs fall back to the callers (no hang, and
    // the caller's inline read reports any real error).
    const lost = (): void => {
      if (!this.closed) this.failed = true;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.drop(slot);
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref(); // an idle pool never keeps the process alive
    this.slots.push(slot);
  }

  private drop(slot: Slot): void {
    for (const resolve of slot.jobs.values()) resolve({ kind: 'fallback' });
    slot.jobs.clear();
    slot.busy = 0;
  }
}
