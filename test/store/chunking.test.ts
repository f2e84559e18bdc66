import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeManifest, encodeManifest, splitAt } from '../../host/node/store/chunking.js';
import { parseFrameHeader } from '../../host/node/store/codec/frame-codec.js';
import { lz4Compress } from '../../host/node/core/codec.js';
import { KeyedLocks } from '../../host/node/store/keyed-locks.js';
import { ForgeError } from '../../host/node/base/errors.js';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('manifest format', () => {
  it('encode/decode round-trips and the text is the documented one', () => {
    fc.assert(
      fc.property(
        hex64,
        fc.array(fc.record({ hash: hex64, size: fc.integer({ min: 1, max: 1 << 20 }) }), { minLength: 1, maxLength: 20 }),
        (sha256, chunks) => {
          const size = chunks.reduce((a, c) => a + c.size, 0);
          const bytes = encodeManifest({ size, sha256, chunks });
          const text = new TextDecoder().decode(bytes);
          expect(text.split('\n')[0]).toBe('forge-manifest 1');
          expect(text).toContain(`\nsize ${size}\nsha256 ${sha256}\n`);
          expect(text.endsWith('\n')).toBe(true);
          expect(decodeManifest(bytes)).toEqual({ size, sha256, chunks });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects malformed manifests with validation errors', () => {
    const ok = `forge-manifest 1\nsize 3\nsha256 ${'a'.repeat(64)}\nchunk ${'b'.repeat(64)} 3\n`;
    expect(decodeManifest(new TextEncoder().encode(ok)).size).toBe(3);
    for (const bad of [
      ok.replace('forge-manifest 1', 'forge-manifest 2'),
      ok.replace('size 3', 'size 4'),
      ok.slice(0, -1),
      ok.replace(`chunk ${'b'.repeat(64)} 3\n`, ''),
      ok.replace('chunk ', 'chunk  '),
      ok.replace('sha256 a', 'sha256 A'),
    ]) {
      expect(() => decodeManifest(new TextEncoder().encode(bad))).toThrow(ForgeError);
    }
  });

  it('splitAt checks the chunker cut points', () => {
    const d = new Uint8Array(10);
    expect(splitAt(d, [3, 10]).map((p) => p.length)).toEqual([3, 7]);
    expect(() => splitAt(d, [3, 9])).toThrow(ForgeError);
    expect(() => splitAt(d, [3, 3, 10])).toThrow(ForgeError);
  });
});

describe('frame header', () => {
  it('reads block size, content size and flags of core frames', () => {
    const data = new Uint8Array(70_000).fill(7);
    const h = parseFrameHeader(lz4Compress(data, { blockSize: 262144, blockChecksum: true }));
    expect(h).toEqual({ blockSize: 262144, contentSize: 70_000, contentChecksum: true, blockChecksum: true });
    expect(parseFrameHeader(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
  });
});

describe('KeyedLocks', () => {
  it('serializes one key, runs different keys in parallel, never deadlocks on overlapping key sets', async () => {
    const locks = new KeyedLocks();
    const log: string[] = [];
    const job = async (keys: string[], name: string): Promise<void> => {
      const release = await locks.lockAll(keys);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      release();
    };
    await Promise.all([job(['a', 'b'], '1'), job(['b', 'a'], '2'), job(['c'], '3')]);
    // 1 and 2 share keys: never interleaved. 3 overlaps with them.
    const i1 = log.indexOf('start 1'),
      e1 = log.indexOf('end 1'),
      i2 = log.indexOf('start 2'),
      e2 = log.indexOf('end 2');
    expect(e1 < i2 || e2 < i1).toBe(true);
    expect(log.indexOf('start 3')).toBeLessThan(Math.max(e1, e2));
    expect(locks.size).toBe(0);
  });
});
