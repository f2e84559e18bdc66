// build/forge-core-cli.wasm, the core as a WASI command, run for real in child processes: under
// Node's node:wasi (the module) and as a component through jco (its transpiled bindings, and
// `jco run` itself). Outputs are compared with sha256sum and the lz4 CLI, and its frames with
// the library's, byte for byte.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdcCutPoints } from '../../host/node/core/chunker.js';
import { lz4Compress } from '../../host/node/core/codec.js';
import { xxh32 } from '../../host/node/core/checksum.js';
import { randomBytes, textLikeBytes } from '../../vectors/prng.mjs';
import { requireTool } from '../support/reference-tools.js';

const root = join(import.meta.dirname, '..', '..');
const lz4 = requireTool('lz4', 'lz4', 'forge-core-cli frames checked against the lz4 CLI');
const sha256sum = requireTool('sha256sum', 'coreutils', 'forge-core-cli sha256 checked against sha256sum');

const RUNNERS = {
  'node:wasi': [join(root, 'scripts', 'lib', 'run-wasi.mjs')],
  jco: [join(root, 'scripts', 'lib', 'run-jco-cli.mjs')],
} as const;
type Runner = keyof typeof RUNNERS;

function cli(runner: Runner, args: string[], input?: Uint8Array, cwd?: string): SpawnSyncReturns<Buffer> {
  // PWD as a shell would set it: the component resolves relative names against it.
  return spawnSync(process.execPath, ['--no-warnings', ...RUNNERS[runner], ...args], {
    input: input ?? new Uint8Array(0),
    cwd,
    maxBuffer: 1 << 30,
    env: { ...process.env, PWD: cwd ?? process.cwd() },
  });
}

function ok(r: SpawnSyncReturns<Buffer>): Buffer {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

let dir = '';
const files: { name: string; data: Uint8Array }[] = [];
beforeAll(() => {
  for (const f of ['forge-core-cli.wasm', 'forge-core-cli.component.wasm']) {
    if (!existsSync(join(root, 'build', f))) throw new Error(`build/${f} is missing: run npm run build:cli`);
  }
  dir = mkdtempSync(join(tmpdir(), 'forge-cli-'));
  const sizes: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one', randomBytes(1, 1)],
    ['small', textLikeBytes(2, 4095)],
    ['block', randomBytes(3, 65537)],
    ['random-5m', randomBytes(4, 5 * 1024 * 1024 + 7)],
    ['text-9m', textLikeBytes(5, 9 * 1024 * 1024 + 3)], // three 4 MiB blocks
  ];
  for (const [name, data] of sizes) {
    writeFileSync(join(dir, name), data);
    files.push({ name, data });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function reference(args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(args[0]!, args.slice(1), { cwd: dir, input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

for (const runner of Object.keys(RUNNERS) as Runner[]) {
  describe(`forge-core-cli under ${runner}`, () => {
    it.skipIf(!sha256sum)('sha256 of files (relative and absolute names) prints what sha256sum prints', () => {
      const names = files.map((f) => f.name);
      expect(ok(cli(runner, ['sha256', ...names], undefined, dir)).toString()).toBe(reference(['sha256sum', ...names]).toString());
      const abs = join(dir, 'small');
      expect(ok(cli(runner, ['sha256', abs])).toString()).toBe(reference(['sha256sum', abs]).toString());
    });

    it.skipIf(!sha256sum)('sha256 of stdin, empty and multi-MiB, prints what sha256sum prints', () => {
      for (const f of [files[0]!, files[4]!]) {
        expect(ok(cli(runner, ['sha256'], f.data)).toString()).toBe(reference(['sha256sum'], f.data).toString());
      }
    });

    it.skipIf(!lz4)("lz4 -c writes the library's frame byte for byte, and lz4 -d decodes it", () => {
      for (const f of files) {
        const frame = ok(cli(runner, ['lz4', '-c'], f.data));
        expect(Buffer.compare(frame, lz4Compress(f.data, { contentSize: false })), f.name).toBe(0);
        expect(Buffer.compare(reference(['lz4', '-d', '-c'], frame), f.data), f.name).toBe(0);
      }
    });

    it.skipIf(!lz4)('lz4 -d decodes what the lz4 CLI writes (independent and linked blocks, sizes, checksums)', () => {
      const cases: [string, string[][]][] = [
        ['empty', [[]]],
        ['one', [['-BD']]],
        ['block', [[], ['-BD'], ['-B4', '-BX'], ['-9', '-BD', '-B5'], ['--no-frame-crc', '-B6']]],
        ['text-9m', [[], ['-BD', '-B4']]],
      ];
      for (const [name, flagSets] of cases) {
        const f = files.find((x) => x.name === name)!;
        for (const flags of flagSets) {
          const frame = reference(['lz4', ...flags, '-c', f.name]);
          const out = ok(cli(runner, ['lz4', '-d'], frame));
          expect(Buffer.compare(out, f.data), `${f.name} ${flags.join(' ')}`).toBe(0);
        }
      }
      // With the content size in the header (lz4 knows it when reading a file).
      const sized = reference(['lz4', '--content-size', '-c', 'random-5m']);
      expect(Buffer.compare(ok(cli(runner, ['lz4', '-d'], sized)), files[4]!.data)).toBe(0);
    });

    it('xxh32 prints the 8-digit hash of stdin and of files, with and without --seed', () => {
      const f = files[3]!;
      const hex = (v: number) => v.toString(16).padStart(8, '0');
      expect(ok(cli(runner, ['xxh32'], f.data)).toString()).toBe(`${hex(xxh32(f.data))}  -\n`);
      expect(ok(cli(runner, ['xxh32', '--seed', '4294967295', 'block'], undefined, dir)).toString()).toBe(`${hex(xxh32(f.data, 0xffffffff))}  block\n`);
    });

    it("cdc prints the library's cut points for a multi-MiB stream", () => {
      const f = files[5]!;
      const out = ok(cli(runner, ['cdc', '--min', '4096', '--avg', '16384', '--max', '65536'], f.data)).toString();
      const want = cdcCutPoints(f.data, { min: 4096, avg: 16384, max: 65536 });
      expect(out.trim().split('\n').map(Number)).toEqual(Array.from(want));
    });

    it('vectors checks every published vectors file with zero mismatches', () => {
      for (const name of ['sha256', 'xxh32', 'lz4', 'fastcdc', 'coalescer']) {
        const out = ok(cli(runner, ['vectors', join(root, 'vectors', `${name}.json`)])).toString();
        const count = (JSON.parse(readFileSync(join(root, 'vectors', `${name}.json`), 'utf8')) as { cases: unknown[] }).cases.length;
        expect(out).toBe(`${name}: ${count} cases, 0 mismatches\n`);
      }
    });

    it('vectors exits non-zero and names the case when an expected value is wrong, and refuses unknown formats', () => {
      const tamper = (name: string, edit: (v: { format: number; cases: Record<string, unknown>[] }) => void): string => {
        const v = JSON.parse(readFileSync(join(root, 'vectors', `${name}.json`), 'utf8'));
        edit(v);
        const file = join(dir, `${name}-tampered.json`);
        writeFileSync(file, JSON.stringify(v));
        return file;
      };
      const wrong: [string, string][] = [
        [
          tamper('sha256', (v) => {
            v.cases[3]!.sha256 = '0'.repeat(64);
          }),
          'sha256 case 3',
        ],
        [
          tamper('fastcdc', (v) => {
            (v.cases[2]!.cutPoints as number[])[0]! += 1;
          }),
          'fastcdc case 2',
        ],
        [
          tamper('coalescer', (v) => {
            v.cases[0]!.outputs = [[], []];
          }),
          'coalescer case 0',
        ],
        [
          tamper('lz4', (v) => {
            v.cases[12]!.decodedSha256 = 'f'.repeat(64);
          }),
          'lz4 case 12',
        ],
      ];
      for (const [file, what] of wrong) {
        const r = cli(runner, ['vectors', file]);
        expect(r.status, what).toBe(1);
        expect(r.stderr.toString()).toContain(`${what}: expected`);
        expect(r.stdout.toString()).toMatch(/ 1 mismatches\n$/);
      }
      const unusable = [
        tamper('xxh32', (v) => {
          v.format = 2;
        }),
        join(dir, 'small'), // not JSON
        join(dir, 'no-such.json'),
      ];
      for (const file of unusable) {
        const r = cli(runner, ['vectors', file]);
        expect(r.status, file).toBe(runner === 'jco' ? 1 : 2);
        expect(r.stderr.toString()).toMatch(/format 2|not JSON|No such file/);
      }
    });

    it('errors go to stderr with a non-zero exit, never a trap', () => {
      const cases: [string[], Uint8Array | undefined, number, RegExp][] = [
        [['sha256', 'no-such-file'], undefined, 1, /no-such-file: No such file or directory/],
        [['lz4', '-d'], Buffer.from('not a frame at all'), 1, /bad-magic/],
        [['lz4', '-d'], lz4Compress(files[2]!.data).subarray(0, 100), 1, /truncated/],
        [['lz4', '-d'], new Uint8Array(0), 1, /truncated/],
        [['lz4'], undefined, 2, /give -c \(compress\) or -d/],
        [['cdc', '--min', '10'], undefined, 2, /64 <= min <= avg <= max/],
        [['xxh32', '--seed', 'x'], undefined, 2, /--seed must be an integer/],
        [['frobnicate'], undefined, 2, /unknown command frobnicate/],
      ];
      for (const [args, input, status, message] of cases) {
        const r = cli(runner, args, input, dir);
        // A component's exit is ok or error (wasi:cli/exit): every failure leaves with status 1.
        expect({ args, status: r.status }).toEqual({ args, status: runner === 'jco' ? 1 : status });
        const err = r.stderr.toString();
        expect(err).toMatch(message);
        expect(err).not.toMatch(/unreachable|RuntimeError|trap/i);
      }
    });
  });
}

describe.skipIf(!sha256sum)('jco run', () => {
  it("runs the component with jco's own runner (stdout to a file)", () => {
    const outFile = join(dir, 'jco-run.out');
    const fd = openSync(outFile, 'w');
    try {
      const r = spawnSync(
        join(root, 'node_modules', '.bin', 'jco'),
        ['run', join(root, 'build', 'forge-core-cli.component.wasm'), 'sha256', 'small', 'empty'],
        {
          cwd: dir,
          stdio: ['ignore', fd, 'pipe'],
          env: { ...process.env, PWD: dir },
        },
      );
      expect(r.status, r.stderr?.toString()).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(outFile, 'utf8')).toBe(reference(['sha256sum', 'small', 'empty']).toString());
  });
});
