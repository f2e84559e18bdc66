/**
 * The unified diff checked against GNU patch (a reference tool): applying our
 * diff of A→B to A must give B exactly, for generated line sequences.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diffLines, isBinary, unifiedDiff } from '../../host/node/cli/unified-diff.js';
import { requireTool } from '../support/reference-tools.js';

const gnuPatchCli = requireTool('patch', 'patch', 'unified diffs applied by GNU patch');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-udiff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Applies `diff` to `a` with GNU patch and returns the result. */
function gnuPatch(a: string, diff: string): string {
  const file = path.join(dir, 'target.txt');
  fs.writeFileSync(file, a);
  const r = spawnSync('patch', ['--batch', '--silent', '--output', path.join(dir, 'out.txt'), file], { input: diff });
  if (r.status !== 0) throw new Error(`patch failed (${r.status}): ${r.stderr.toString()}${r.stdout.toString()}\n--- diff ---\n${diff}`);
  return fs.readFileSync(path.join(dir, 'out.txt'), 'utf8');
}

// Few distinct lines, so sequences share lines and the diff has real structure.
const line = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'longer line', '', '  indented');
const text = fc.tuple(fc.array(line, { maxLength: 40 }), fc.boolean()).map(([ls, nl]) => (ls.length ? ls.join('\n') + (nl ? '\n' : '') : ''));

describe('unified diff', () => {
  it.skipIf(!gnuPatchCli)('GNU patch applied to A with our diff gives B (fast-check, 150 runs)', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 4 }), (a, b, context) => {
        const r = unifiedDiff(enc(a), enc(b), { labelA: 'a/target.txt', labelB: 'b/target.txt', context });
        if (a === b) {
          expect(r.text).toBe('');
          return;
        }
        expect(gnuPatch(a, r.text)).toBe(b);
      }),
      { numRuns: 150 },
    );
  });

  it('the edit script is minimal on known cases and keeps common lines', () => {
    const e = diffLines(['a', 'b', 'c', 'a', 'b', 'b', 'a'], ['c', 'b', 'a', 'b', 'a', 'c'])!;
    expect(e.filter((x) => x.op !== ' ').length).toBe(5); // Myers' paper example: D = 5
    expect(e.filter((x) => x.op !== '+').map((x) => x.line)).toEqual(['a', 'b', 'c', 'a', 'b', 'b', 'a']);
    expect(e.filter((x) => x.op !== '-').map((x) => x.line)).toEqual(['c', 'b', 'a', 'b', 'a', 'c']);
  });

  it('hunk header and body for a one-line change', () => {
    const r = unifiedDiff(enc('1\n2\n3\n4\n5\n6\n7\n8\n'), enc('1\n2\n3\n4\nFIVE\n6\n7\n8\n'), { labelA: 'x@1', labelB: 'x@2' });
    expect(r.text).toBe('--- x@1\n+++ x@2\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n');
  });

  it('binary content gets a one-line summary', () => {
    const a = new Uint8Array([1, 2, 0, 3]);
    const r = unifiedDiff(a, enc('text\n'), { labelA: 'f@1', labelB: 'f@2' });
    expect(r.binary).toBe(true);
    expect(r.text).toBe('Binary files f@1 (4 bytes) and f@2 (5 bytes) differ\n');
    expect(isBinary(new Uint8Array([0xff, 0xfe, 0x41]))).toBe(true); // invalid UTF-8
    expect(isBinary(enc('héllo\n'))).toBe(false);
  });

  it.skipIf(!gnuPatchCli)('falls back to a full replacement past maxEditDistance and says so', () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`).join('\n') + '\n';
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`).join('\n') + '\n';
    const r = unifiedDiff(enc(a), enc(b), { maxEditDistance: 10 });
    expect(r.truncatedSearch).toBe(true);
    expect(gnuPatch(a, r.text)).toBe(b);
  });
});
