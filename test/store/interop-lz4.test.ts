import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { HASHERS, tempDir, withStore } from './helpers.js';
import { requireTool } from '../support/reference-tools.js';

const lz4Cli = requireTool('lz4', 'lz4', 'store objects checked with `lz4 -d | sha256sum`');

/** Every object file under objects/<2>/<62>, with the name it claims. */
function objects(root: string): Array<{ path: string; name: string }> {
  const out: Array<{ path: string; name: string }> = [];
  for (const d of readdirSync(join(root, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(d)) continue;
    for (const f of readdirSync(join(root, 'objects', d))) out.push({ path: join(root, 'objects', d, f), name: d + f });
  }
  return out;
}

/** What `lz4 -d < path | sha256sum` prints for each path (the Debian lz4 CLI and coreutils), in one shell. */
function lz4Sha256sums(paths: string[]): string[] {
  const script = 'for f in "$@"; do lz4 -d -c < "$f" | sha256sum; done';
  const out = execFileSync('sh', ['-c', script, 'sh', ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]!);
}

describe.skipIf(!lz4Cli).each(HASHERS)('interop with the lz4 CLI (hasher %s)', (hasher) => {
  it('lz4 -d | sha256sum of every object equals its name, for random contents', async () => {
    await withStore(
      {
        hasher,
        sync: false,
        workers: 2,
        parallelCompressThreshold: 8192, // content above this is framed from parallel block ranges
        chunkThreshold: 200_000,
        cdc: { min: 16384, avg: 65536, max: 131072 },
      },
      async (store, dir) => {
        const content = fc.oneof(
          { arbitrary: fc.uint8Array({ maxLength: 2048 }), weight: 5 },
          // compressible, larger than the parallel threshold: several 64 KiB blocks from workers
          {
            arbitrary: fc
              .tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 100, max: 9000 }))
              .map(([s, n]) => new TextEncoder().encode(s.repeat(n))),
            weight: 3,
          },
          // random and large enough to be chunked
          {
            arbitrary: fc.integer({ min: 200_001, max: 300_000 }).map((n) => new Uint8Array(randomBytes(n))),
            weight: 2,
          },
        );
        await fc.assert(
          fc.asyncProperty(content, async (data) => {
            await store.put(data).then((r) => r.hash);
          }),
          { numRuns: 100 },
        );
        const all = objects(dir);
        expect(all.length).toBeGreaterThan(50);
        const sums = lz4Sha256sums(all.map((o) => o.path));
        expect(sums).toEqual(all.map((o) => o.name));
      },
    );
  });
});
