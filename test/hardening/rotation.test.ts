import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingFileSink } from '../../host/node/runtime/rotating-file.js';
import { createLogger } from '../../host/node/runtime/logging.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-rot-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sizesIn(dir: string): Map<string, number> {
  return new Map(readdirSync(dir).map((n) => [n, statSync(join(dir, n)).size]));
}

describe('log rotation', () => {
  it('Property 20: rotation happens before the file exceeds the limit, counting files that already existed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 4096 }).chain((limit) =>
          fc.record({
            limit: fc.constant(limit),
            preSize: fc.integer({ min: 0, max: limit }),
            preArchives: fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 4 }),
            maxFiles: fc.integer({ min: 1, max: 6 }),
            lines: fc.array(fc.integer({ min: 1, max: limit }), { minLength: 1, maxLength: 60 }),
          }),
        ),
        ({ limit, preSize, preArchives, maxFiles, lines }) => {
          const dir = tempDir();
          const file = join(dir, 'forge.log');
          if (preSize > 0) writeFileSync(file, 'p'.repeat(preSize));
          for (const n of preArchives) writeFileSync(`${file}.${n}`, `old ${n}\n`);
          // Model of the rule, written independently: rotate when size + line > limit.
          const model = new Map<string, string>();
          for (const n of preArchives) model.set(`forge.log.${n}`, `old ${n}\n`);
          let current = 'p'.repeat(preSize);
          let last = Math.max(0, ...preArchives);

          const sink = RotatingFileSink.open({ file, maxBytes: limit, maxFiles });
          expect(sink.currentSize).toBe(preSize);
          lines.forEach((len, i) => {
            const line = String.fromCharCode(97 + (i % 26)).repeat(len - 1) + '\n';
            if (current.length > 0 && current.length + len > limit) {
              model.set(`forge.log.${++last}`, current);
              current = '';
              const nums = [...model.keys()].map((k) => Number(k.split('.').pop())).sort((a, b) => a - b);
              for (const n of nums.slice(0, Math.max(0, nums.length - maxFiles))) model.delete(`forge.log.${n}`);
            }
            current += line;
            sink.write(line);
            // After every write: no file is over the limit.
            for (const [name, size] of sizesIn(dir)) expect(size, name).toBeLessThanOrEqual(limit);
          });
          sink.close();
          model.set('forge.log', current);
          const actual = new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
          expect(actual).toEqual(model);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('the logger rotates its file: every line parses, numbering continues after existing files', () => {
    const dir = tempDir();
    const file = join(dir, 'forge.log');
    writeFileSync(`${file}.7`, '');
    writeFileSync(file, 'x'.repeat(1900) + '\n');
    const log = createLogger({ file, rotateBytes: 2048, maxFiles: 100, level: 'info' });
    for (let i = 0; i < 200; i++) log.info({ i, pad: 'y'.repeat(i % 50) }, `line ${i}`);
    log.close();
    const names = readdirSync(dir).sort();
    expect(names).toContain('forge.log.8'); // the pre-existing 1901 bytes rolled first, as .8
    expect(readFileSync(`${file}.8`, 'utf8').startsWith('x'.repeat(1900))).toBe(true);
    const seen: number[] = [];
    for (const n of names) {
      expect(statSync(join(dir, n)).size).toBeLessThanOrEqual(2048);
      if (n === 'forge.log.7') continue;
      for (const l of readFileSync(join(dir, n), 'utf8')
        .split('\n')
        .filter((x) => x && !x.startsWith('x'))) {
        const rec = JSON.parse(l) as { i: number; message: string };
        seen.push(rec.i);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a record larger than the limit is written whole into a fresh file', () => {
    const dir = tempDir();
    const file = join(dir, 'forge.log');
    const sink = RotatingFileSink.open({ file, maxBytes: 100 });
    sink.write('a'.repeat(10) + '\n');
    sink.write('b'.repeat(300) + '\n');
    sink.write('c\n');
    sink.close();
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('a'.repeat(10) + '\n');
    expect(readFileSync(`${file}.2`, 'utf8')).toBe('b'.repeat(300) + '\n');
    expect(readFileSync(file, 'utf8')).toBe('c\n');
  });

  it('a logging call never throws, even when rotation and writing fail; the loss is counted', () => {
    const dir = tempDir();
    const file = join(dir, 'forge.log');
    const sink = RotatingFileSink.open({ file, maxBytes: 10 });
    sink.write('12345678\n');
    rmSync(dir, { recursive: true, force: true }); // rename and reopen now fail
    expect(() => sink.write('abcdefgh\n')).not.toThrow();
    expect(sink.rotationFailures).toBe(1);
    expect(sink.dropped).toBeGreaterThan(0); // the directory is gone: the lines are lost, and counted
    expect(() => sink.close()).not.toThrow();
  });

  it('an unusable rotation size is a configuration error', () => {
    const dir = tempDir();
    expect(() => RotatingFileSink.open({ file: join(dir, 'f.log'), maxBytes: 0 })).toThrow(/positive integer/);
  });
});
