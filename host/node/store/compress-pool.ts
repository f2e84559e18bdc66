/**
 * A small pool of worker threads that compress for the store. Each worker
 * loads its own core instance (a core instance is not shareable across
 * threads). Workers run the compiled `dist/` JavaScript: under a TypeScript
 * runner this file maps its own path to `dist/host/node/store/compress-worker.js`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ForgeError } from '../errors.js';
import type { FrameOptions } from './core-bindings.js';

/** What a worker does with one piece of content. */
export type CompressJobKind = 'frame' | 'blocks';

export interface CompressRequest {
  id: number;
  kind: CompressJobKind;
  data: Uint8Array;
  options: FrameOptions;
}

export type CompressResponse =
  | { id: number; ok: true; buffer: ArrayBuffer; offset: number; length: number }
  | { id: number; ok: false; message: string; category: string };

interface Pending {
  resolve: (out: Uint8Array) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

/** Finds compress-worker.js next to this module, or in dist/ when running from the TypeScript sources. */
export function workerScriptPath(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  if (here.endsWith('.js')) {
    const p = join(dir, 'compress-worker.js');
    return existsSync(p) ? p : undefined;
  }
  // host/node/store/compress-pool.ts -> <root>/dist/host/node/store/compress-worker.js
  let root = dir;
  for (let i = 0; i < 3; i++) root = dirname(root);
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
  readonly script: string;

  constructor(
    readonly size: number,
    script?: string,
  ) {
    const s = script ?? workerScriptPath();
    if (s === undefined) {
      throw new ForgeError('dependency', 'The compiled compress worker (dist/host/node/store/compress-worker.js) is missing', {
        context: { operation: 'compress pool' },
        suggestions: ['Build the TypeScript with `npx tsc -p tsconfig.json` (npm ci does it), or set workers: 0.'],
      });
    }
    this.script = s;
  }

  /** Compresses `data` on the least busy worker. `data` is copied to the worker. */
  run(kind: CompressJobKind, data: Uint8Array, options: FrameOptions): Promise<Uint8Array> {
    if (this.closed) {
      return Promise.reject(new ForgeError('unknown', 'compress pool is closed', { context: { operation: 'compress' } }));
    }
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (out) => {
          this.done(slot);
          resolve(out);
        },
        reject: (err) => {
          this.done(slot);
          reject(err);
        },
      });
      slot.busy++;
      if (slot.busy === 1) slot.worker.ref();
      // postMessage would clone a view's whole backing buffer, and transferring the caller's
      // buffer would detach it: send an exact copy, transferred. (Not `data.slice()`: on a
      // Buffer that is a view, and transferring it would empty the caller's data.)
      const own = new Uint8Array(data);
      const msg: CompressRequest = { id, kind, data: own, options };
      slot.worker.postMessage(msg, [own.buffer as ArrayBuffer]);
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
  }

  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (best === undefined || s.busy < best.busy) best = s;
    if (best !== undefined && (best.busy === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(this.script);
    const slot: Slot = { worker, busy: 0 };
    worker.unref(); // an idle pool never keeps the process alive
    worker.on('message', (m: CompressResponse) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(new Uint8Array(m.buffer, m.offset, m.length));
      else p.reject(new ForgeError(m.category === 'validation' ? 'validation' : 'unknown', `compress worker: ${m.message}`, { context: { operation: 'compress' } }));
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`compress worker exited with code ${code}`));
    });
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
