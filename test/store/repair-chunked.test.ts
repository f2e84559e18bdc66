// verify --repair repairs a damaged chunk and a damaged manifest of a chunked file from the
// intact file in the tree (re-chunk and compare). Real CLI in child processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { assertBuilt, forge } from '../cli/helpers.js';
import { objectPath, manifestRefPath } from '../../host/node/store/object-path.js';

function damage(file: string): void {
  chmodSync(file, 0o600);
  const b = readFileSync(file);
  b[Math.floor(b.length / 2)] ^= 0x55;
  writeFileSync(file, b);
}

describe('verify --repair of chunked content', () => {
  let dir: string;
  let tree: string;
  let store: string;
  let hash: string;
  let manifest: string;
  let chunks: string[];

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'forge-repair-chunked-'));
    tree = join(dir, 'tree');
    store = join(tree, '.forge');
    mkdirSync(tree);
    writeFileSync(join(tree, 'big.bin'), randomBytes(3 << 20));
    expect(forge(['watch', tree, '--once'], { cwd: tree, timeoutMs: 120_000 }).code).toBe(0);
    hash = spawnSync('sha256sum', [join(tree, 'big.bin')], { encoding: 'utf8' }).stdout.split(' ')[0]!;
    manifest = readFileSync(manifestRefPath(store, hash), 'utf8').trim();
    const text = spawnSync('sh', ['-c', `lz4 -dc < '${objectPath(store, manifest)}'`], { encoding: 'utf8' }).stdout;
    chunks = [...text.matchAll(/^chunk ([0-9a-f]{64})/gm)].map((m) => m[1]!);
    expect(chunks.length).toBeGreaterThan(3);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const what of ['a chunk', 'the manifest'] as const) {
    it(`${what} damaged: verify fails, --repair re-chunks the tree file, verify passes`, () => {
      damage(objectPath(store, what === 'a chunk' ? chunks[2]! : manifest));
      const before = forge(['verify'], { cwd: tree });
      expect(before.code).toBe(1);
      expect(before.stdout).toMatch(/CORRUPT/);
      const r = forge(['verify', '--repair'], { cwd: tree });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/re-chunked from big\.bin/);
      expect(forge(['verify'], { cwd: tree }).code).toBe(0);
      // The repaired store gives the file back (sha256sum as the reference).
      const out = forge(['cat', hash], { cwd: tree });
      expect(out.code).toBe(0);
      writeFileSync(join(dir, 'back.bin'), out.stdoutBytes);
      expect(spawnSync('sha256sum', [join(dir, 'back.bin')], { encoding: 'utf8' }).stdout.split(' ')[0]).toBe(hash);
    }, 120_000);
  }
});
