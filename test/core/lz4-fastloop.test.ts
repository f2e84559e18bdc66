// The decoder's shortcut loop (short literals; matches at offsets >= 8 of up to 18 bytes, or up
// to 273 with one length byte, copied in 8/16-byte steps) and the compressor, on real source text
// (JavaScript/JSON from node_modules, which repeats whole files: long matches) and on built data
// whose matches sit at every offset 1..64 with lengths around the shortcut's limits (18/19,
// 273/274). Every frame round-trips through the `lz4` CLI both ways, and random mutations of
// valid frames decode to the original bytes or fail with a codec error, never a trap.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../host/node/core/loader.js';
import { CODEC_ERRORS, lz4Compress, lz4Decompress } from '../../host/node/core/codec.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { requireTool } from '../support/reference-tools.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lz4Cli = requireTool('lz4', 'lz4', 'LZ4 shortcut-loop round trips and mutations against the lz4 CLI');
const core = loadCore();

/** About `size` bytes of .js/.json files from node_modules (sorted walk: the same bytes every run). */
function sourceText(size: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= size || name.startsWith('.')) continue;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (/\.(js|json)$/.test(name) && st.size > 0 && st.size < 1 << 20) {
        const b = readFileSync(p);
        parts.push(b);
        total += b.length;
      }
    }
  };
  walk(join(root, 'node_modules', 'typescript'));
  walk(join(root, 'node_modules'));
  return Buffer.concat(parts).subarray(0, size);
}

/** Random-looking bytes with copies at offset `offset` of length `len`, repeated. */
function periodic(seed: number, n: number, offset: number, len: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  while (i < n) {
    // A few literals, then a copy of `len` bytes from `offset` back (the compressor finds it).
    for (let k = 0; k < 3 && i < n; k++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i++] = x & 0xff;
    }
    for (let k = 0; k < len && i < n; k++, i++) out[i] = i >= offset ? out[i - offset]! : x >>> 24;
  }
  return out;
}

const source = sourceText(3 << 20);

const inputArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  // A slice of real source text.
  fc
    .record({ at: fc.nat({ max: source.length - 1 }), len: fc.integer({ min: 1, max: 600_000 }) })
    .map(({ at, len }) => source.subarray(at, Math.min(source.length, at + len))),
  // Built matches around the shortcut's limits.
  fc
    .record({
      seed: fc.nat(),
      n: fc.integer({ min: 1, max: 300_000 }),
      offset: fc.integer({ min: 1, max: 64 }),
      len: fc.constantFrom(4, 17, 18, 19, 20, 100, 272, 273, 274, 275, 600, 5000),
    })
    .map(({ seed, n, offset, len }) => periodic(seed, n, offset, len)),
);

function cli(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync('lz4', args, { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`lz4 ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Ours through `lz4 -d`, and the CLI's frame through ours: both give `data` back. */
function roundTrip(data: Uint8Array, blockSize: number): void {
  const ours = lz4Compress(data, { blockSize: blockSize as 65536 | 4194304 }, core);
  expect(Buffer.compare(cli(['-d', '-c'], ours), Buffer.from(data))).toBe(0);
  const theirs = cli(['-1', '-c', blockSize === 65536 ? '-BD' : '-BI', blockSize === 65536 ? '-B4' : '-B7'], data);
  expect(Buffer.compare(Buffer.from(lz4Decompress(theirs, { maxSize: data.length }, core)), Buffer.from(data))).toBe(0);
}

describe.skipIf(!lz4Cli)('LZ4 shortcut loop against the lz4 CLI', () => {
  it("our frames decode with `lz4 -d`, the CLI's frames decode with ours, byte-exact (fast-check, 120 runs)", () => {
    fc.assert(fc.property(inputArb, fc.constantFrom(65536, 4194304), roundTrip), { numRuns: 120 });
    expect(core.poisoned).toBe(false);
  });

  it('a pinned sequence (seed 336003991, 30 runs) that made the SIMD decoder overrun its output and corrupt the heap', () => {
    // The shortcut's 32-byte match copy reached 6 bytes past the output on the SIMD module; the
    // allocator's next header was overwritten and the 26th call of this sequence trapped in compress.
    fc.assert(fc.property(inputArb, fc.constantFrom(65536, 4194304), roundTrip), { numRuns: 30, seed: 336003991 });
    expect(core.poisoned).toBe(false);
  });

  it('random mutations of valid frames: the original bytes or a codec error, never a trap (fast-check, 300 runs)', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.boolean(),
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }), cut: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        (data, fromCli, muts) => {
          // Both carry a content checksum, so any decode that succeeds must give the original.
          const frame = Buffer.from(fromCli ? cli(['-1', '-c', '-BD', '-B4'], data) : lz4Compress(data, { blockSize: 65536 }, core));
          let bad = frame;
          for (const m of muts) {
            // Leave the header (magic, FLG, BD, sizes, HC) alone: mutate blocks, lengths, offsets.
            const at = 7 + (m.at % Math.max(1, bad.length - 7));
            if (m.cut) bad = bad.subarray(0, at);
            else if (at < bad.length) {
              bad = Buffer.from(bad);
              bad[at] = bad[at]! ^ m.xor;
            }
          }
          let out: Uint8Array;
          try {
            out = lz4Decompress(bad, { maxSize: data.length + 64 }, core);
          } catch (e) {
            expect(e).toBeInstanceOf(ForgeError);
            expect((e as ForgeError).category).toBe('validation');
            expect(CODEC_ERRORS).toContain((e as ForgeError).context.codecError);
            return;
          }
          expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
    expect(core.poisoned).toBe(false);
  });
});
