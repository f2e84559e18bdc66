// Frames of stored (uncompressed) blocks, built on the host with one call into the core: the
// reference `lz4` CLI decodes every one to the input (it checks the header checksum, the block
// and content checksums), for sizes around the block boundaries and every frame option.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { coreBindings, type FrameOptions } from '../../host/node/store/core-bindings.js';
import { storedFrame } from '../../host/node/store/codec/stored-frame.js';
import { randomBytes } from '../../vectors/prng.mjs';
import { requireTool } from '../support/reference-tools.js';

const lz4Cli = requireTool('lz4', 'lz4', 'stored-block frames decoded by the lz4 CLI');
const core = coreBindings();

/** `lz4 -dc` of one or more concatenated frames, through stdin/stdout. */
function cliDecode(frames: Uint8Array): Buffer {
  const r = spawnSync('lz4', ['-d', '-c'], { input: frames, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`lz4 -d failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

const SIZES = [0, 1, 2, 15, 16, 4095, 4096, 4097, 65535, 65536, 65537, 2 * 65536, 2 * 65536 + 1, 262143, 262144, 262145];
const options = fc.record({
  blockSize: fc.constantFrom(65536, 262144) as fc.Arbitrary<FrameOptions['blockSize']>,
  contentSize: fc.boolean(),
  contentChecksum: fc.boolean(),
  blockChecksum: fc.boolean(),
});

describe('storedFrame', () => {
  it.skipIf(!lz4Cli)('Property: lz4 -dc decodes the frame to the input, for sizes around block boundaries and every option (150 runs)', () => {
    const size = fc.oneof(fc.constantFrom(...SIZES), fc.integer({ min: 0, max: 300_000 }));
    fc.assert(
      fc.property(size, options, fc.integer({ min: 1, max: 1 << 30 }), (n, o, seed) => {
        const data = randomBytes(seed, n);
        const frame = storedFrame(core, data, o);
        const blocks = Math.ceil(n / o.blockSize);
        // Header (7, +8 with the content size), 4 per block (+4 with block checksums), the content, end mark (+4 checksum).
        expect(frame.length).toBe(7 + (o.contentSize ? 8 : 0) + blocks * (o.blockChecksum ? 8 : 4) + n + (o.contentChecksum ? 8 : 4));
        expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
        expect(Buffer.compare(Buffer.from(core.lz4Decompress(frame, 1 << 30)), Buffer.from(data))).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it.skipIf(!lz4Cli)('the header equals the one lz4 writes for the same options (content size, flags, block size id, header checksum)', () => {
    // From a file (from a pipe lz4 cannot know the content size); 64 KiB blocks (-B4), no content checksum.
    const dir = mkdtempSync(join(tmpdir(), 'forge-stored-'));
    try {
      for (const n of [1, 15, 4096, 70_000]) {
        // (for an empty file lz4 leaves the content size out)
        const data = randomBytes(n + 3, n);
        const file = join(dir, `in-${n}`);
        writeFileSync(file, data);
        const ref = spawnSync('lz4', ['-c', '-B4', '--content-size', '--no-frame-crc', file]).stdout;
        const ours = storedFrame(core, data, { blockSize: 65536, contentSize: true, contentChecksum: false, blockChecksum: false });
        expect(Buffer.from(ours.subarray(0, 15)).toString('hex')).toBe(ref.subarray(0, 15).toString('hex'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!lz4Cli)('frames cut one after another from the shared slab do not overlap, and changing the input afterwards changes no frame', () => {
    const o: FrameOptions = { blockSize: 65536, contentSize: true, contentChecksum: true, blockChecksum: false };
    // 400 frames of 3 KiB..4 KiB fill several slabs; each input is overwritten once framed.
    const inputs = Array.from({ length: 400 }, (_, i) => randomBytes(1000 + i, 3000 + ((i * 37) % 1100)));
    const frames = inputs.map((d) => {
      const f = storedFrame(core, d, o);
      const copy = Buffer.from(d);
      d.fill(0xa5);
      return { f, copy };
    });
    const all = Buffer.concat(frames.map(({ f }) => f));
    // Concatenated frames decode to the concatenated inputs as they were when framed.
    expect(Buffer.compare(cliDecode(all), Buffer.concat(frames.map(({ copy }) => copy)))).toBe(0);
    for (let i = 1; i < frames.length; i++) {
      const a = frames[i - 1]!.f;
      const b = frames[i]!.f;
      if (a.buffer === b.buffer) expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength);
    }
  });

  it('a block size the frame format does not have is a validation ForgeError', () => {
    const bad = { blockSize: 4096, contentSize: true, contentChecksum: true, blockChecksum: false } as unknown as FrameOptions;
    expect(() => storedFrame(core, new Uint8Array(10), bad)).toThrow(ForgeError);
    try {
      storedFrame(core, new Uint8Array(10), bad);
    } catch (err) {
      expect((err as ForgeError).category).toBe('validation');
      expect((err as Error).message).toContain('4096');
    }
  });
});
