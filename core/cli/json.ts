// A small JSON reader for the command's `vectors` subcommand (RFC 8259 values; numbers as f64,
// exact for the integers vectors use). Managed objects are fine here: the command runs once.

export const J_NULL = 0, J_BOOL = 1, J_NUM = 2, J_STR = 3, J_ARR = 4, J_OBJ = 5;

export class JValue {
  kind: i32 = J_NULL;
  num: f64 = 0;
  str: string = "";
  items: JValue[] = [];
  keys: string[] = [];

  /** The member `key` of an object, or null. */
  get(key: string): JValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
  has(key: string): bool {
    return this.kind == J_OBJ && this.get(key) !== null;
  }
}

let p: usize = 0;
let end: usize = 0;
export let jsonError: string = "";

function ws(): void {
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    p++;
  }
}

function fail(msg: string, start: usize): JValue | null {
  if (jsonError == "") jsonError = msg + " at byte " + (p - start).toString();
  return null;
}

/** Parses `len` bytes at `src`; null (and jsonError) on malformed input. */
export function parseJson(src: usize, len: usize): JValue | null {
  p = src;
  end = src + len;
  jsonError = "";
  const v = value(src, 0);
  if (v === null) return null;
  ws();
  if (p != end) return fail("trailing data", src);
  return v;
}

function value(src: usize, depth: i32): JValue | null {
  ws();
  if (p >= end) return fail("unexpected end", src);
  if (depth > 64) return fail("nesting too deep", src);
  const c = load<u8>(p);
  const v = new JValue();
  if (c == 0x7b) { // {
    v.kind = J_OBJ;
    p++;
    ws();
    if (p < end && load<u8>(p) == 0x7d) { p++; return v; }
    while (true) {
      ws();
      if (p >= end || load<u8>(p) != 0x22) return fail("expected a member name", src);
      const k = str(src);
      if (k === null) return null;
      ws();
      if (p >= end || load<u8>(p) != 0x3a) return fail("expected ':'", src);
      p++;
      const m = value(src, depth + 1);
      if (m === null) return null;
      v.keys.push(k);
      v.items.push(m);
      ws();
      if (p < end && load<u8>(p) == 0x2c) { p++; continue; }
      if (p < end && load<u8>(p) == 0x7d) { p++; return v; }
      return fail("expected ',' or '}'", src);
    }
  }
  if (c == 0x5b) { // [
    v.kind = J_ARR;
    p++;
    ws();
    if (p < end && load<u8>(p) == 0x5d) { p++; return v; }
    while (true) {
      const m = value(src, depth + 1);
      if (m === null) return null;
      v.items.push(m);
      ws();
      if (p < end && load<u8>(p) == 0x2c) { p++; continue; }
      if (p < end && load<u8>(p) == 0x5d) { p++; return v; }
      return fail("expected ',' or ']'", src);
    }
  }
  if (c == 0x22) {
    const s = str(src);
    if (s === null) return null;
    v.kind = J_STR;
    v.str = s;
    return v;
  }
  if (word("true")) { v.kind = J_BOOL; v.num = 1; return v; }
  if (word("false")) { v.kind = J_BOOL; return v; }
  if (word("null")) return v;
  // Number.
  const start = p;
  if (p < end && load<u8>(p) == 0x2d) p++;
  while (p < end) {
    const d = load<u8>(p);
    if ((d >= 0x30 && d <= 0x39) || d == 0x2e || d == 0x65 || d == 0x45 || d == 0x2b || d == 0x2d) p++;
    else break;
  }
  if (p == start) return fail("unexpected character", src);
  v.kind = J_NUM;
  v.num = parseFloat(String.UTF8.decodeUnsafe(start, p - start));
  if (isNaN(v.num)) return fail("bad number", src);
  return v;
}

function word(w: string): bool {
  const n = <usize>w.length;
  if (end - p < n) return false;
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != <u8>w.charCodeAt(<i32>i)) return false;
  p += n;
  return true;
}

function hex4(): i32 {
  if (end - p < 4) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = <i32>load<u8>(p++);
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

function str(src: usize): string | null {
  p++; // opening quote
  let out = "";
  let run = p;
  while (true) {
    if (p >= end) { fail("unterminated string", src); return null; }
    const c = load<u8>(p);
    if (c == 0x22) {
      out += String.UTF8.decodeUnsafe(run, p - run);
      p++;
      return out;
    }
    if (c == 0x5c) {
      out += String.UTF8.decodeUnsafe(run, p - run);
      p++;
      if (p >= end) { fail("bad escape", src); return null; }
      const e = load<u8>(p++);
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else if (e == 0x75) {
        const u = hex4();
        if (u < 0) { fail("bad \\u escape", src); return null; }
        out += String.fromCharCode(u); // surrogate halves pair up in the UTF-16 string
      } else { fail("bad escape", src); return null; }
      run = p;
      continue;
    }
    if (c < 0x20) { fail("control character in string", src); return null; }
    p++;
  }
}
