/**
 * The unified diff of `forge diff`, on the `diff` package (Myers' O(ND) line diff) with a bound on
 * the edit distance: past it, the diff is printed as a whole-file replacement (still a correct diff,
 * built in linear time and memory) and the result says so.
 *
 * Binary content (a NUL byte in the first 8 KiB, or invalid UTF-8) gets a
 * one-line summary instead of hunks, as git does.
 */

/** One line-level edit: keep, delete (from A) or insert (from B). */
export interface Edit {
  op: ' ' | '-' | '+';
  line: string;
}

export interface UnifiedDiffOptions {
  /** Labels for the `---`/`+++` header lines. */
  labelA?: string;
  labelB?: string;
  /** Lines of context around each change (default 3). */
  context?: number;
  /**
   * Upper bound on the edit distance the search explores (default 4,000 lines changed; the search costs
   * O(D²) on top of the input). Beyond it the diff falls back to "replace everything", which is still a
   * correct diff, and {@link UnifiedDiffResult.truncatedSearch} says so.
   */
  maxEditDistance?: number;
}

export interface UnifiedDiffResult {
  /** The diff text; empty when both sides are equal. */
  text: string;
  binary: boolean;
  /** True when the edit search hit `maxEditDistance` and fell back to a full replace. */
  truncatedSearch: boolean;
}

const BINARY_SNIFF_BYTES = 8192;

/** Whether `data` looks binary: a NUL in the first 8 KiB or not valid UTF-8. */
export function isBinary(data: Uint8Array): boolean {
  const n = Math.min(data.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < n; i++) if (data[i] === 0) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return false;
  } catch {
    return true;
  }
}

import { diffArrays, structuredPatch, type StructuredPatchHunk } from 'diff';

/** The default bound on the edit distance (lines changed) before a whole-file replacement. */
export const DEFAULT_MAX_EDIT_DISTANCE = 4_000;

/**
 * Shortest edit script between two line arrays, or `undefined` when more than `maxD` lines change.
 *
 * @example
 * ```ts
 * diffLines(['a', 'b'], ['a', 'c']); // [{op:' ',line:'a'}, {op:'-',line:'b'}, {op:'+',line:'c'}]
 * ```
 */
export function diffLines(a: readonly string[], b: readonly string[], maxD = DEFAULT_MAX_EDIT_DISTANCE): Edit[] | undefined {
  const parts = diffArrays([...a], [...b], { maxEditLength: maxD });
  if (parts === undefined) return undefined;
  const out: Edit[] = [];
  for (const p of parts) {
    const op = p.added ? '+' : p.removed ? '-' : ' ';
    for (const line of p.value) out.push({ op, line });
  }
  return out;
}

/** Lines of `text` without their newlines, and whether the last one had one. */
function splitText(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith('\n');
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, finalNewline };
}

const NO_NEWLINE = '\\ No newline at end of file';

/** One hunk that deletes all of A and inserts all of B: linear, for diffs past the bound. */
function replaceAll(a: string, b: string): StructuredPatchHunk {
  const A = splitText(a);
  const B = splitText(b);
  const lines: string[] = [];
  for (const l of A.lines) lines.push('-' + l);
  if (A.lines.length > 0 && !A.finalNewline) lines.push(NO_NEWLINE);
  for (const l of B.lines) lines.push('+' + l);
  if (B.lines.length > 0 && !B.finalNewline) lines.push(NO_NEWLINE);
  return {
    oldStart: 1,
    oldLines: A.lines.length,
    newStart: 1,
    newLines: B.lines.length,
    lines,
  };
}

/** A hunk range as GNU diff prints it: an empty range names the line before it (`-3,0` inserts after line 3). */
/**
 * Whether the line edit distance surely exceeds `maxD`, in linear time: every line of B that occurs
 * nowhere in A must be inserted. Stops counting as soon as the bound is passed, so a file where every
 * line changed costs one pass over A and a few lines of B, and the O(D²) search is never started.
 */
function surelyFartherThan(a: string, b: string, maxD: number): boolean {
  const inA = new Set(splitText(a).lines);
  let n = 0;
  for (const l of splitText(b).lines) if (!inA.has(l) && ++n > maxD) return true;
  return false;
}

function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * A unified diff of two contents. Binary content (see {@link isBinary}) gets a one-line summary.
 *
 * @example
 * ```ts
 * const r = unifiedDiff(Buffer.from('a\nb\n'), Buffer.from('a\nc\n'), { labelA: 'x@1', labelB: 'x@2' });
 * process.stdout.write(r.text); // --- x@1 / +++ x@2 / @@ -1,2 +1,2 @@ / a / -b / +c
 * ```
 */
export function unifiedDiff(a: Uint8Array, b: Uint8Array, options: UnifiedDiffOptions = {}): UnifiedDiffResult {
  const labelA = options.labelA ?? 'a';
  const labelB = options.labelB ?? 'b';
  if (Buffer.compare(a, b) === 0) return { text: '', binary: false, truncatedSearch: false };
  if (isBinary(a) || isBinary(b)) {
    return {
      text: `Binary files ${labelA} (${a.length} bytes) and ${labelB} (${b.length} bytes) differ\n`,
      binary: true,
      truncatedSearch: false,
    };
  }
  const dec = new TextDecoder('utf-8');
  const textA = dec.decode(a);
  const textB = dec.decode(b);
  const maxD = options.maxEditDistance ?? DEFAULT_MAX_EDIT_DISTANCE;
  const patch = surelyFartherThan(textA, textB, maxD)
    ? undefined
    : structuredPatch(labelA, labelB, textA, textB, undefined, undefined, { context: options.context ?? 3, maxEditLength: maxD });
  const truncated = patch === undefined;
  const hunks = patch === undefined ? [replaceAll(textA, textB)] : patch.hunks;
  // Joined piece by piece (never spread into one call): a hunk may hold millions of lines.
  const out: string[] = [`--- ${labelA}`, `+++ ${labelB}`];
  for (const h of hunks) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`);
    for (const l of h.lines) out.push(l);
  }
  return { text: out.join('\n') + '\n', binary: false, truncatedSearch: truncated };
}
