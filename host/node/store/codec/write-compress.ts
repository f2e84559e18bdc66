/**
 * Frames for the write path.
 *
 * - Small content: framed on this thread. (Sending small objects to the
 *   workers, a few per message, so they compress while this thread writes,
 *   measured 15-25% slower for 4 KiB puts on the 2-core build machine: the
 *   messages cost this thread about as much as the compression they save.)
 * - Content over the parallel threshold: split into block-aligned ranges
 *   compressed on the workers while this thread computes the content
 *   checksum, joined as header ++ blocks... ++ trailer — byte-for-byte one
 *   LZ4 frame (the same scheme as FrameCodec.compress).
 * - In a batch, each larger object goes to a worker whole.
 * - Small content of concurrent puts (several in one turn: a putMany, or
 *   puts issued together, as a scan does) goes to the workers too, packed:
 *   the small contents of one turn travel in jobs of up to
 *   SMALL_JOB_BYTES, one message each, so the message cost is shared and
 *   this thread is left with hashing and the file system. A lone put (or
 *   any put before a worker is up) frames here.
 *
 * A frame made here is returned as a value (not a promise), so the writer
 * queues it in the same turn. Until the first worker is up, everything is
 * framed here.
 */
import type { CoreBindings, FrameOptions } from '../core-bindings.js';
import { sharedCodecPool, type CodecPool } from './codec-pool.js';
import type { Frame } from '../tmp-files.js';
import { storedFrame } from './stored-frame.js';

/** What the compressor takes from the store's FrameCodec. */
export interface WriteCompressorOptions {
  frame: FrameOptions;
  /** Content larger than this is split over the workers. */
  parallelThreshold: number;
  /** Worker threads (the pool is started on first use). */
  workers: number;
  /** False: everything is compressed on the calling thread. */
  parallel: boolean;
  /** The pool to use (default: the process's shared one, see sharedCodecPool). */
  pool?: CodecPool;
  /** Store blocks uncompressed (store option `compression: 'none'`): framed here, never on the workers. */
  stored?: boolean;
}

/** In a batch, content at least this large goes to a worker whole. */
const BATCH_WORKER_MIN = 16_384;
/** Smaller content is always framed here (a copy to a worker costs about what framing it does). */
const SMALL_WORKER_MIN = 512;
/** Small contents of one turn are sent in jobs of at most this many bytes (several workers share a large turn). */
const SMALL_JOB_BYTES = 256 << 10;
/** While the workers start: at most this many bytes per turn are compressed here instead. */
const STARTUP_INLINE_BUDGET = 4 << 20;

/**
 * Makes object frames for {@link ObjectWriter}.
 *
 * @example
 * ```ts
 * const c = new WriteCompressor(coreBindings(), { frame: DEFAULT_FRAME_OPTIONS, parallelThreshold: 100_000, workers: 2, parallel: true });
 * const frame = await c.compress(data, false);
 * await c.close();
 * ```
 */
export class WriteCompressor {
  private pool: CodecPool | undefined;
  private closed = false;
  private started = false;
  /** Bytes compressed here this turn because no worker was up yet. */
  private inlineBytes = 0;
  /** Small contents asked for this turn, and in the turn before (concurrency: see small). */
  private smallThisTurn = 0;
  private smallLastTurn = 0;
  /** Small contents of this turn waiting to go to the workers together. */
  private packed: Array<{ data: Uint8Array; resolve: (f: Frame) => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly core: CoreBindings,
    private readonly o: WriteCompressorOptions,
  ) {}

  /** The frame of `data`: a value when made on this thread, a promise when workers make it. */
  compress(data: Uint8Array, batched: boolean): Frame | Promise<Frame> {
    return this.early(data, batched) ?? this.frameHere(data);
  }

  /** The frame of `data`, made on this thread (what {@link early} chose when it returned undefined). */
  frameHere(data: Uint8Array): Frame {
    return this.o.stored === true ? storedFrame(this.core, data, this.o.frame) : this.core.lz4Compress(data, this.o.frame);
  }

  /**
   * Starts compressing `data` on the workers if that is where it would be compressed, before its
   * hash is known (the caller hashes meanwhile); undefined for content framed on this thread.
   */
  early(data: Uint8Array, batched: boolean): Promise<Frame> | undefined {
    if (!this.o.parallel || this.closed || this.o.stored === true) return undefined;
    const toWorkers = batched ? data.length >= BATCH_WORKER_MIN : data.length > this.o.parallelThreshold;
    if (!toWorkers) return data.length >= SMALL_WORKER_MIN ? this.small(data, batched) : undefined;
    const pool = this.workers();
    if (pool.ready === 0) {
      // Starting a worker takes ~100 ms (thread, modules, core): rather than wait for that,
      // compress here until one is up, up to a budget per turn (a large batch must not stall
      // the event loop compressing everything here: beyond the budget it queues for the
      // workers). Started once; a worker that dies later is replaced on demand.
      if (!this.started) {
        this.started = true;
        pool.start();
      }
      if (this.inlineBytes + data.length <= STARTUP_INLINE_BUDGET) {
        if (this.inlineBytes === 0) process.nextTick(() => (this.inlineBytes = 0));
        this.inlineBytes += data.length;
        return undefined;
      }
    }
    return batched ? pool.run('frame', data, this.o.frame) : this.ranges(data);
  }

  /**
   * A small content's frame from the workers, packed with the other small contents of this turn,
   * when puts run concurrently (a batch, a second small content this turn, or several last
   * turn: a steady stream of concurrent puts) and a worker is up; else undefined (framed here).
   * Concurrency also starts the workers.
   */
  private small(data: Uint8Array, batched: boolean): Promise<Frame> | undefined {
    if (this.smallThisTurn++ === 0) {
      process.nextTick(() => {
        this.smallLastTurn = this.smallThisTurn;
        this.smallThisTurn = 0;
      });
    }
    if (!batched && this.smallThisTurn < 2 && this.smallLastTurn < 2) return undefined;
    const pool = this.workers();
    if (pool.ready === 0) {
      if (!this.started) {
        this.started = true;
        pool.start();
      }
      return undefined;
    }
    return new Promise<Frame>((resolve, reject) => {
      if (this.packed.length === 0) process.nextTick(() => this.sendPacked(pool));
      this.packed.push({ data, resolve, reject });
    });
  }

  /** Sends this turn's small contents to the workers (a lone one is framed here: no message for one). */
  private sendPacked(pool: CodecPool): void {
    const items = this.packed;
    this.packed = [];
    const frame = this.o.frame;
    const here = (it: (typeof items)[number]): void => {
      try {
        it.resolve(this.core.lz4Compress(it.data, frame));
      } catch (err) {
        it.reject(err);
      }
    };
    if (items.length === 1) {
      here(items[0]!);
      return;
    }
    for (let i = 0; i < items.length; ) {
      let bytes = 0;
      let j = i;
      while (j < items.length && (j === i || bytes + items[j]!.data.length <= SMALL_JOB_BYTES)) bytes += items[j++]!.data.length;
      const job = items.slice(i, j);
      pool
        .runMany(
          job.map((it) => it.data),
          frame,
        )
        .then(
          (frames) => job.forEach((it, k) => it.resolve(frames[k]!)),
          // A worker that failed (or a pool closed meanwhile): frame here, the put goes on.
          () => job.forEach(here),
        );
      i = j;
    }
  }

  /**
   * Stops using the workers. Safe to call twice. The shared pool stays up for the other stores
   * of the process (its idle workers do not keep the process alive); a pool given in the
   * options is the caller's to close.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.pool = undefined;
  }

  private workers(): CodecPool {
    return (this.pool ??= this.o.pool ?? sharedCodecPool(this.o.workers));
  }

  private async ranges(data: Uint8Array): Promise<Frame> {
    const pool = this.workers();
    const frame = this.o.frame;
    const bs = frame.blockSize;
    // About two ranges per worker, each a whole number of blocks: both workers stay busy even
    // when the ranges compress at different speeds.
    const blocks = Math.ceil(data.length / bs);
    const perRange = Math.max(1, Math.ceil(blocks / (this.o.workers * 2)));
    const parts: Array<Promise<Uint8Array>> = [];
    for (let off = 0; off < data.length; off += perRange * bs) {
      parts.push(pool.run('blocks', data.subarray(off, Math.min(data.length, off + perRange * bs)), frame));
    }
    // The content checksum covers everything: computed here while the workers compress.
    const checksum = this.core.xxh32(data, 0);
    const header = this.core.lz4FrameHeader(data.length, frame);
    const trailer = this.core.lz4FrameTrailer(checksum, frame);
    // The parts are written with writev: no copy into one buffer.
    return [header, ...(await Promise.all(parts)), trailer];
  }
}
