import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { CodecPool } from '../../host/node/store/codec/codec-pool.js';
import { WriteCompressor } from '../../host/node/store/codec/write-compress.js';
import { coreBindings } from '../../host/node/store/core-bindings.js';
import { DEFAULT_FRAME_OPTIONS } from '../../host/node/store/codec/frame-codec.js';
import { joinFrame, type Frame } from '../../host/node/store/write.js';
import { lz4Compress, lz4Decompress } from '../../host/node/core/codec.js';
import { requireDist } from './helpers.js';

const frame = DEFAULT_FRAME_OPTIONS;

async function until(cond: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Text-like bytes (compressible, so frames differ from their input). */
function textish(n: number, seed: number): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta\n', 'epsilon ', `w${seed} `];
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; ) {
    s = (s * 1103515245 + 12345) >>> 0;
    const w = words[s % words.length]!;
    for (let k = 0; k < w.length && i < n; k++) out[i++] = w.charCodeAt(k);
  }
  return out;
}

describe('CodecPool', () => {
  it('start() brings every worker up, and ready counts them without the event loop being needed', async () => {
    requireDist('store/codec/codec-worker.js');
    const pool = new CodecPool(2);
    try {
      expect(pool.ready).toBe(0);
      pool.start();
      await until(() => pool.ready === 2, 'two ready workers');
      expect(pool.ready).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('Property: concurrent jobs through reused staging buffers each get their own input back, and callers keep theirs', async () => {
    requireDist('store/codec/codec-worker.js');
    const pool = new CodecPool(2);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 300_000 }), fc.nat()), { minLength: 1, maxLength: 8 }), async (specs) => {
          const inputs = specs.map(([n, seed]) => (seed % 3 === 0 ? new Uint8Array(randomBytes(n)) : textish(n, seed)));
          const copies = inputs.map((d) => Uint8Array.from(d));
          const frames = await Promise.all(inputs.map((d) => pool.run('frame', d, frame)));
          frames.forEach((f, i) => {
            expect(Buffer.from(f).equals(Buffer.from(lz4Compress(inputs[i]!, frame)))).toBe(true);
            expect(Buffer.from(inputs[i]!).equals(Buffer.from(copies[i]!))).toBe(true);
          });
        }),
        { numRuns: 100 },
      );
    } finally {
      await pool.close();
    }
  });
});

describe('WriteCompressor', () => {
  const join = (f: Frame): Uint8Array => joinFrame(f);

  it('frames large content here until a worker is up, then on the workers, byte-identical either way', async () => {
    requireDist('store/codec/codec-worker.js');
    const own = new CodecPool(2);
    const c = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 2, parallel: true, pool: own });
    try {
      const data = textish(700_000, 7);
      const expected = Buffer.from(lz4Compress(data, frame));
      // No worker yet: the first large object is compressed on this thread, at once (a value).
      const first = c.compress(data, false);
      expect(first instanceof Promise).toBe(false);
      expect(Buffer.from(join(first as Frame)).equals(expected)).toBe(true);
      // Once a worker is up, large content goes to the pool (a promise of header, ranges, trailer).
      const pool = (c as unknown as { pool: CodecPool }).pool;
      await until(() => pool.ready > 0, 'a ready worker');
      const later = c.compress(data, false);
      expect(later).toBeInstanceOf(Promise);
      const parts = await later;
      expect(Array.isArray(parts)).toBe(true);
      expect(Buffer.from(join(parts)).equals(expected)).toBe(true);
      expect(Buffer.from(lz4Decompress(join(parts))).equals(Buffer.from(data))).toBe(true);
      // In a batch, medium content goes to a worker whole.
      const medium = textish(40_000, 3);
      const batched = c.early(medium, true);
      expect(batched).toBeInstanceOf(Promise);
      expect(Buffer.from(join(await batched!)).equals(Buffer.from(lz4Compress(medium, frame)))).toBe(true);
      // Tiny content is always framed here.
      expect(c.early(textish(300, 1), true)).toBeUndefined();
      // A lone small content (one this turn, none the turn before) is framed here.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(c.early(textish(5000, 1), false)).toBeUndefined();
    } finally {
      await c.close();
      await own.close();
    }
  });

  it('while no worker is up, a large batch is framed here only up to the per-turn budget; the rest waits for the workers', async () => {
    requireDist('store/codec/codec-worker.js');
    const own = new CodecPool(2);
    const c = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 2, parallel: true, pool: own });
    try {
      const items = Array.from({ length: 8 }, (_, i) => textish(1 << 20, i));
      // All in one turn, as putMany does.
      const frames = items.map((d) => c.compress(d, true));
      const here = frames.filter((f) => !(f instanceof Promise)).length;
      expect(here).toBeGreaterThan(0);
      expect(here).toBeLessThan(items.length);
      const done = await Promise.all(frames);
      done.forEach((f, i) => expect(Buffer.from(join(f)).equals(Buffer.from(lz4Compress(items[i]!, frame)))).toBe(true));
    } finally {
      await c.close();
      await own.close();
    }
  });

  it('every compressor (every store) of the process uses the one shared pool, which outlives a store that closes', async () => {
    requireDist('store/codec/codec-worker.js');
    const a = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 1, parallel: true });
    const b = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 2, parallel: true });
    const data = textish(300_000, 11);
    const expected = Buffer.from(lz4Compress(data, frame));
    // Both start compressing (inline while no worker is up); both then hold the same pool.
    expect(Buffer.from(join(await a.compress(data, false))).equals(expected)).toBe(true);
    expect(Buffer.from(join(await b.compress(data, false))).equals(expected)).toBe(true);
    const pa = (a as unknown as { pool: CodecPool }).pool;
    const pb = (b as unknown as { pool: CodecPool }).pool;
    expect(pa).toBe(pb);
    expect(pa.size).toBe(2); // the largest bound asked for
    await a.close();
    // b still compresses on the (still running) workers once they are up.
    await until(() => pb.ready > 0, 'a ready worker');
    const later = b.compress(data, false);
    expect(later).toBeInstanceOf(Promise);
    expect(Buffer.from(join(await later)).equals(expected)).toBe(true);
    await b.close();
  });

  it('Property: small contents of concurrent puts go to the workers packed into one job per turn, each frame byte-identical', async () => {
    requireDist('store/codec/codec-worker.js');
    const own = new CodecPool(2);
    const c = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 2, parallel: true, pool: own });
    let jobs = 0;
    const runMany = own.runMany.bind(own);
    own.runMany = (parts, o) => {
      jobs++;
      return runMany(parts, o);
    };
    try {
      // Concurrency starts the workers; until one is up, everything is framed here.
      expect(c.early(textish(4096, 1), true)).toBeUndefined();
      await until(() => own.ready > 0, 'a ready worker');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 512, max: 20_000 }), fc.nat()), { minLength: 2, maxLength: 40 }), async (specs) => {
          const inputs = specs.map(([n, seed]) => (seed % 4 === 0 ? new Uint8Array(randomBytes(n)) : textish(n, seed)));
          const before = jobs;
          // One turn of concurrent single puts (not a batch): the second one on is packed.
          const frames = inputs.map((d) => c.compress(d, false));
          expect(frames.slice(1).every((f) => f instanceof Promise)).toBe(true);
          const done = await Promise.all(frames);
          done.forEach((f, i) => expect(Buffer.from(join(f)).equals(Buffer.from(lz4Compress(inputs[i]!, frame)))).toBe(true));
          // Packed: one job per up to 256 KiB of them (a lone packed one is framed here, no job).
          const packed = inputs.filter((_, i) => frames[i] instanceof Promise);
          const bytes = packed.reduce((a, d) => a + d.length, 0);
          if (packed.length < 2) expect(jobs - before).toBe(0);
          else {
            expect(jobs - before).toBeGreaterThanOrEqual(1);
            expect(jobs - before).toBeLessThanOrEqual(Math.ceil(bytes / ((256 << 10) - 20_000)));
          }
        }),
        { numRuns: 100 },
      );
    } finally {
      await c.close();
      await own.close();
    }
  });

  it('with workers off, everything is framed here', () => {
    const c = new WriteCompressor(coreBindings(), { frame, parallelThreshold: 100_000, workers: 0, parallel: false });
    const data = textish(300_000, 9);
    expect(c.early(data, false)).toBeUndefined();
    const f = c.compress(data, true);
    expect(f instanceof Promise).toBe(false);
    expect(Buffer.from(join(f as Frame)).equals(Buffer.from(lz4Compress(data, frame)))).toBe(true);
  });
});
