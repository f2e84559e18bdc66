// examples/c, the worked embedding example of docs/embedding.md: build/forge-core.wasm through
// wasm2c and gcc, run on real files; its output checked with sha256sum and the lz4 CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreWasmPath } from '../../host/node/core/loader.js';
import { randomBytes, textLikeBytes } from '../../vectors/prng.mjs';
import { requireTool } from '../support/reference-tools.js';

const root = join(import.meta.dirname, '..', '..');
const what = 'the C embedding example (examples/c) built with wasm2c and gcc';
const tools = [
  requireTool('wasm2c', 'wabt', what),
  requireTool('gcc', 'gcc', what),
  requireTool('make', 'make', what),
  requireTool('lz4', 'lz4', `${what}: its frames checked with lz4 -d`),
  requireTool('sha256sum', 'coreutils', `${what}: its digests checked with sha256sum`),
].every(Boolean);

let dir = '';
let bin = '';
beforeAll(() => {
  if (!tools) return;
  dir = mkdtempSync(join(tmpdir(), 'forge-example-c-'));
  const r = spawnSync('make', ['-s', '-C', join(root, 'examples', 'c'), `WASM=${coreWasmPath()}`, `OUT=${join(dir, 'build')}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make examples/c failed: ${r.stderr}`);
  bin = join(dir, 'build', 'forge_example');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!tools)('examples/c (wasm2c + gcc)', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['text', textLikeBytes(11, 300_000)],
    ['random', randomBytes(12, 5 * 1024 * 1024 + 1)],
  ];
  for (const [name, data] of inputs) {
    it(`${name} (${data.length} bytes): sha256 as sha256sum, a frame lz4 -d decodes, errors as values`, () => {
      const input = join(dir, name);
      const frame = join(dir, `${name}.lz4`);
      writeFileSync(input, data);
      const r = spawnSync(bin, [input, frame], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(`${lines[0]}\n`).toBe(spawnSync('sha256sum', [input], { encoding: 'utf8' }).stdout);
      expect(lines[1]).toMatch(/round trip ok$/);
      expect(lines[2]).toBe('decoding junk: bad-magic');
      const d = spawnSync('lz4', ['-d', '-c', frame], { maxBuffer: 1 << 30 });
      expect(d.status).toBe(0);
      expect(Buffer.compare(d.stdout, Buffer.from(data))).toBe(0);
      expect(readFileSync(frame).subarray(0, 4)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18]));
    });
  }

  it('refuses a missing input with a message and status 1', () => {
    const r = spawnSync(bin, [join(dir, 'missing'), join(dir, 'x.lz4')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/No such file/);
  });
});
