/**
 * A small unified diff (Myers' O(ND) algorithm on lines), for `forge diff`.
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
   * Upper bound on the edit distance Myers explores (default 4,000 lines
   * changed; the search keeps O(D²) integers). Beyond it the diff falls back to "replace everything", which is
   * still a correct diff, and {@link UnifiedDiffResult.truncatedSearch} says so.
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

/**
 * Splits text into lines that keep their `\n`, so a last line without one
 * differs from the same line with one (and the diff says so).
 */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

/**
 * Shortest edit script between two line arrays (Myers 1986), or `undefined`
 * when the edit distance exceeds `maxD`.
 */
export function diffLines(a: readonly string[], b: readonly string[], maxD = 4_000): Edit[] | undefined {
  // Trim the common prefix and suffix first: typical edits are small, and this
  // keeps the search space (and the trace memory) proportional to the change.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const middle = myers(A, B, maxD);
  if (middle === undefined) return undefined;
  const head: Edit[] = a.slice(0, pre).map((line) => ({ op: ' ', line }));
  const tail: Edit[] = a.slice(a.length - suf).map((line) => ({ op: ' ', line }));
  return [...head, ...middle, ...tail];
}

function myers(a: readonly string[], b: readonly string[], maxD: number): Edit[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxD);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  // trace[d] holds V before round d, only the diagonals -d-1..d+1 it can use,
  // so memory is O(D^2) rather than O(D * (N + M)).
  const trace: Int32Array[] = [];
  let found = n === 0 && m === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    const next = v;
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && next[offset + k - 1]! < next[offset + k + 1]!)) x = next[offset + k + 1]!;
      else x = next[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
    v = next;
  }
  if (!found) return undefined;
  // Backtrack through the saved V arrays to recover the path.
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const at = (k: number): number => vd[k + d + 1]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && at(k - 1) < at(k + 1))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) edits.push({ op: ' ', line: a[--x]! }), y--;
    if (d === 0) break;
    if (x === prevX) edits.push({ op: '+', line: b[--y]! });
    else edits.push({ op: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) edits.push({ op: ' ', line: a[--x]! }), y--;
  return edits.reverse();
}

/** Groups an edit script into unified-diff hunks with `context` lines around changes. */
function renderHunks(edits: readonly Edit[], context: number): string {
  const out: string[] = [];
  // Line numbers (1-based) in A and B at each edit index.
  const aLineAt: number[] = [];
  const bLineAt: number[] = [];
  let al = 1;
  let bl = 1;
  for (const e of edits) {
    aLineAt.push(al);
    bLineAt.push(bl);
    if (e.op !== '+') al++;
    if (e.op !== '-') bl++;
  }
  let i = 0;
  while (i < edits.length) {
    while (i < edits.length && edits[i]!.op === ' ') i++;
    if (i >= edits.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend while the next change is within 2*context lines of the last one.
    for (;;) {
      while (end < edits.length && edits[end]!.op !== ' ') end++;
      let j = end;
      while (j < edits.length && edits[j]!.op === ' ' && j - end < 2 * context) j++;
      if (j < edits.length && edits[j]!.op !== ' ' && j - end <= 2 * context) end = j;
      else break;
    }
    const stop = Math.min(edits.length, end + context);
    let aCount = 0;
    let bCount = 0;
    const body: string[] = [];
    for (let k = start; k < stop; k++) {
      const e = edits[k]!;
      if (e.op !== '+') aCount++;
      if (e.op !== '-') bCount++;
      if (e.line.endsWith('\n')) body.push(e.op + e.line.slice(0, -1));
      else body.push(e.op + e.line, '\\ No newline at end of file');
    }
    const aStart = aCount === 0 ? aLineAt[start]! - 1 : aLineAt[start]!;
    const bStart = bCount === 0 ? bLineAt[start]! - 1 : bLineAt[start]!;
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    out.push(...body);
    i = stop;
  }
  return out.join('\n');
}

/**
 * A unified diff of two contents.
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
  const A = splitLines(dec.decode(a));
  const B = splitLines(dec.decode(b));
  let edits = diffLines(A, B, options.maxEditDistance ?? 4_000);
  let truncated = false;
  if (edits === undefined) {
    truncated = true;
    edits = [...A.map((line): Edit => ({ op: '-', line })), ...B.map((line): Edit => ({ op: '+', line }))];
  }
  const hunks = renderHunks(edits, options.context ?? 3);
  return { text: `--- ${labelA}\n+++ ${labelB}\n${hunks}\n`, binary: false, truncatedSearch: truncated };
}
