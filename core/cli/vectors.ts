// `forge-core-cli vectors <file.json>`: checks a vectors file (vectors/README.md, format 1)
// against this build of the core, calling the same Canonical-ABI functions an embedder calls
// (so the exports are what is checked), in whatever WASI runtime runs the command.
import {
  checksum__sha256, checksum__sha256_batch, checksum__sha256_stream_finish, checksum__sha256_stream_new,
  checksum__sha256_stream_update, checksum__xxh32, post__checksum__sha256, post__checksum__sha256_batch,
  post__checksum__sha256_stream_finish,
} from "../checksum_abi";
import { chunker__cut_points, post__chunker__cut_points } from "../chunker_abi";
import {
  codec__lz4_frame_compress, codec__lz4_frame_decompress, post__codec__lz4_frame_compress,
  post__codec__lz4_frame_decompress,
} from "../codec_abi";
import {
  events__coalescer_drain, events__coalescer_flush, events__coalescer_free, events__coalescer_new,
  events__coalescer_push, post__events__coalescer_drain, post__events__coalescer_flush,
} from "../events_abi";
import { J_ARR, J_NULL, J_NUM, J_OBJ, J_STR, JValue, jsonError, parseJson } from "./json";
import { Out } from "./text";
import { close, eprint, errText, openRead, readSome } from "./wasi_io";

const HEX = "0123456789abcdef";
const CODEC_ERRORS = ["bad-magic", "unsupported", "truncated", "corrupt", "checksum-mismatch", "too-large"];
const KINDS = ["created", "modified", "removed", "renamed", "overflow"];
const VOCAB = ["the ", "core ", "forge ", "const ", "return ", "{ ", "} ", "\n", "import ", "export ", "= ", "0x", "data", "; "];

/** Thrown-free error path: a description of what in the file is malformed. */
let bad: string = "";

function num(v: JValue | null, what: string): f64 {
  if (v === null || v.kind != J_NUM) { if (bad == "") bad = what + " must be a number"; return 0; }
  return v.num;
}
function text(v: JValue | null, what: string): string {
  if (v === null || v.kind != J_STR) { if (bad == "") bad = what + " must be a string"; return ""; }
  return v.str;
}
function arr(v: JValue | null, what: string): JValue[] {
  if (v === null || v.kind != J_ARR) { if (bad == "") bad = what + " must be an array"; return []; }
  return v.items;
}

/** Lowercase hex of `n` bytes at `p` (built in one buffer: nothing is collected here). */
function hexOf(p: usize, n: usize): string {
  if (n == 0) return "";
  const buf = heap.alloc(n << 1);
  for (let i: usize = 0; i < n; i++) {
    const b = load<u8>(p + i);
    store<u8>(buf + (i << 1), <u8>HEX.charCodeAt(b >> 4));
    store<u8>(buf + (i << 1) + 1, <u8>HEX.charCodeAt(b & 15));
  }
  const s = String.UTF8.decodeUnsafe(buf, n << 1);
  heap.free(buf);
  return s;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// ------------------------------------------------------------------------------ inputs

/** Length of the last inputBytes() result. */
let inLen: usize = 0;

/** The bytes of an input specification, in a heap block the callee consumes (see abi.ts). */
function inputBytes(spec: JValue): usize {
  if (spec.kind != J_OBJ) { bad = "an input must be an object"; inLen = 0; return 8; }
  if (spec.has("text")) {
    const b = String.UTF8.encode(text(spec.get("text"), "text"));
    return copyIn(changetype<usize>(b), <usize>b.byteLength);
  }
  if (spec.has("hex")) {
    const h = text(spec.get("hex"), "hex");
    const n = <usize>(h.length >> 1);
    const p = alloc(n);
    for (let i: usize = 0; i < n; i++) {
      const hi = hexDigit(h.charCodeAt(<i32>i * 2));
      const lo = hexDigit(h.charCodeAt(<i32>i * 2 + 1));
      if (hi < 0 || lo < 0) bad = "hex must be pairs of hex digits";
      store<u8>(p + i, <u8>((hi << 4) | lo));
    }
    return p;
  }
  const size = <usize>num(spec.get("size"), "size");
  const p = alloc(size);
  if (spec.has("repeat")) {
    memory.fill(p, <u8>num(spec.get("repeat"), "repeat"), size);
  } else if (spec.has("textLike")) {
    let x = seedOf(<u32>num(spec.get("textLike"), "textLike"));
    let i: usize = 0;
    while (i < size) {
      x = xorshift(x);
      const w = VOCAB[<i32>(x % <u32>VOCAB.length)];
      for (let j = 0; j < w.length && i < size; j++) store<u8>(p + i++, <u8>w.charCodeAt(j));
    }
  } else if (spec.has("seed")) {
    let x = seedOf(<u32>num(spec.get("seed"), "seed"));
    for (let i: usize = 0; i < size; i += 4) {
      x = xorshift(x);
      for (let k: usize = 0; k < 4 && i + k < size; k++) store<u8>(p + i + k, <u8>(x >> (<u32>k * 8)));
    }
  } else {
    bad = "unknown input specification";
  }
  return p;
}

@inline function seedOf(s: u32): u32 { return s == 0 ? 0x9e3779b9 : s; }
@inline function xorshift(x: u32): u32 {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

function alloc(n: usize): usize {
  inLen = n;
  return n == 0 ? 8 : heap.alloc(n);
}
function copyIn(src: usize, n: usize): usize {
  const p = alloc(n);
  memory.copy(p, src, n);
  return p;
}

// ------------------------------------------------------------------------------ areas

function sha256Case(c: JValue): string {
  const kind = text(c.get("kind"), "kind");
  if (kind == "batch") {
    const inputs = arr(c.get("inputs"), "inputs");
    const n = <usize>inputs.length;
    const list = n == 0 ? 8 : heap.alloc(n << 3);
    for (let i: usize = 0; i < n; i++) {
      const p = inputBytes(inputs[<i32>i]);
      store<u32>(list + (i << 3), <u32>p);
      store<u32>(list + (i << 3), <u32>inLen, 4);
    }
    const ret = checksum__sha256_batch(list, n);
    const ptr = <usize>load<u32>(ret);
    let s = "[";
    for (let i: usize = 0; i < n; i++) s += (i > 0 ? "," : "") + hexOf(<usize>load<u32>(ptr + (i << 3)), 32);
    post__checksum__sha256_batch(ret);
    return s + "]";
  }
  const p = inputBytes(c.get("input") as JValue);
  const len = inLen;
  let ret: usize;
  let s: string;
  if (kind == "stream") {
    const h = checksum__sha256_stream_new();
    const splits = arr(c.get("splits"), "splits");
    let at: usize = 0;
    for (let i = 0; i <= splits.length; i++) {
      const to = i < splits.length ? <usize>num(splits[i], "split") : len;
      const n = to - at;
      checksum__sha256_stream_update(h, n == 0 ? 8 : copyIn(p + at, n), n);
      at = to;
    }
    if (len != 0) heap.free(p);
    ret = checksum__sha256_stream_finish(h);
    s = hexOf(<usize>load<u32>(ret), 32);
    post__checksum__sha256_stream_finish(ret);
  } else {
    ret = checksum__sha256(p, len);
    s = hexOf(<usize>load<u32>(ret), 32);
    post__checksum__sha256(ret);
  }
  return s;
}

function sha256Hex(p: usize, n: usize): string {
  const ret = checksum__sha256(copyIn(p, n), n);
  const s = hexOf(<usize>load<u32>(ret), 32);
  post__checksum__sha256(ret);
  return s;
}

/** lz4-frame-decompress of hex `frame`: "sha256:<hex>" of the output or "error:<name>". */
function lz4Decode(frameHex: string): string {
  const f = new JValue();
  f.keys.push("hex");
  const h = new JValue();
  h.kind = J_STR;
  h.str = frameHex;
  f.items.push(h);
  f.kind = J_OBJ;
  const p = inputBytes(f);
  const ret = codec__lz4_frame_decompress(p, inLen, 1 << 32);
  let s: string;
  if (load<u8>(ret) == 0) s = "sha256:" + sha256Hex(<usize>load<u32>(ret, 4), <usize>load<u32>(ret, 8));
  else s = "error:" + CODEC_ERRORS[load<u8>(ret, 4)];
  post__codec__lz4_frame_decompress(ret);
  return s;
}

function lz4Case(c: JValue): string {
  const kind = text(c.get("kind"), "kind");
  if (kind == "encode") {
    const o = c.get("options") as JValue;
    const p = inputBytes(c.get("input") as JValue);
    const ret = codec__lz4_frame_compress(p, inLen, <u32>num(o.get("blockSize"), "blockSize"),
      (o.get("contentSize") as JValue).num != 0, (o.get("contentChecksum") as JValue).num != 0, (o.get("blockChecksum") as JValue).num != 0);
    const frame = hexOf(<usize>load<u32>(ret), <usize>load<u32>(ret, 4));
    post__codec__lz4_frame_compress(ret);
    return "frame:" + frame + " " + lz4Decode(text(c.get("frame"), "frame"));
  }
  return lz4Decode(text(c.get("frame"), "frame"));
}

function lz4Expected(c: JValue): string {
  const kind = text(c.get("kind"), "kind");
  if (kind == "encode") return "frame:" + text(c.get("frame"), "frame") + " sha256:" + text(c.get("decodedSha256"), "decodedSha256");
  if (kind == "decode") return "sha256:" + text(c.get("decodedSha256"), "decodedSha256");
  return "error:" + text(c.get("error"), "error");
}

function cdcCase(c: JValue): string {
  const params = c.get("params") as JValue;
  const p = inputBytes(c.get("input") as JValue);
  const ret = chunker__cut_points(p, inLen, <u32>num(params.get("minSize"), "minSize"),
    <u32>num(params.get("avgSize"), "avgSize"), <u32>num(params.get("maxSize"), "maxSize"));
  const ptr = <usize>load<u32>(ret);
  const n = <usize>load<u32>(ret, 4);
  let s = "[";
  for (let i: usize = 0; i < n; i++) s += (i > 0 ? "," : "") + load<u32>(ptr + (i << 2)).toString();
  post__chunker__cut_points(ret);
  return s + "]";
}

function numbers(v: JValue | null): string {
  const items = arr(v, "cutPoints");
  let s = "[";
  for (let i = 0; i < items.length; i++) s += (i > 0 ? "," : "") + (<u64>num(items[i], "cut point")).toString();
  return s + "]";
}

/** Lowers a list of changes (JSON) into `change` records; returns the pointer (count = items). */
function lowerChanges(changes: JValue[]): usize {
  const n = <usize>changes.length;
  const recs = n == 0 ? 8 : heap.alloc(n * 24);
  for (let i: usize = 0; i < n; i++) {
    const ch = changes[<i32>i];
    const r = recs + i * 24;
    const path = String.UTF8.encode(text(ch.get("path"), "path"));
    store<u32>(r, <u32>copyIn(changetype<usize>(path), <usize>path.byteLength), 0);
    store<u32>(r, <u32>path.byteLength, 4);
    store<u8>(r, <u8>KINDS.indexOf(text(ch.get("kind"), "kind")), 8);
    const old = ch.get("oldPath");
    store<u8>(r, old === null ? 0 : 1, 12);
    if (old !== null) {
      const ob = String.UTF8.encode(text(old, "oldPath"));
      store<u32>(r, <u32>copyIn(changetype<usize>(ob), <usize>ob.byteLength), 16);
      store<u32>(r, <u32>ob.byteLength, 20);
    }
  }
  return recs;
}

function liftChanges(ret: usize): string {
  const ptr = <usize>load<u32>(ret);
  const n = <usize>load<u32>(ret, 4);
  let s = "[";
  for (let i: usize = 0; i < n; i++) {
    const r = ptr + i * 24;
    s += (i > 0 ? "," : "") + "{" + String.UTF8.decodeUnsafe(<usize>load<u32>(r), <usize>load<u32>(r, 4)) + "|" + KINDS[load<u8>(r, 8)];
    if (load<u8>(r, 12) != 0) s += "|" + String.UTF8.decodeUnsafe(<usize>load<u32>(r, 16), <usize>load<u32>(r, 20));
    s += "}";
  }
  return s + "]";
}

function changesText(v: JValue): string {
  let s = "[";
  for (let i = 0; i < v.items.length; i++) {
    const ch = v.items[i];
    s += (i > 0 ? "," : "") + "{" + text(ch.get("path"), "path") + "|" + text(ch.get("kind"), "kind");
    const old = ch.get("oldPath");
    if (old !== null) s += "|" + text(old, "oldPath");
    s += "}";
  }
  return s + "]";
}

function coalescerCase(c: JValue): string {
  const h = events__coalescer_new(<u32>num(c.get("windowMs"), "windowMs"));
  const steps = arr(c.get("steps"), "steps");
  let s = "[";
  let first = true;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i];
    const op = text(st.get("op"), "op");
    if (op == "push") {
      const changes = arr(st.get("changes"), "changes");
      events__coalescer_push(h, lowerChanges(changes), <usize>changes.length, <u64>num(st.get("nowMs"), "nowMs"));
      continue;
    }
    let out: string;
    if (op == "drain") {
      const ret = events__coalescer_drain(h, <u64>num(st.get("nowMs"), "nowMs"));
      out = liftChanges(ret);
      post__events__coalescer_drain(ret);
    } else {
      const ret = events__coalescer_flush(h);
      out = liftChanges(ret);
      post__events__coalescer_flush(ret);
    }
    s += (first ? "" : ",") + out;
    first = false;
  }
  events__coalescer_free(h);
  return s + "]";
}

function coalescerExpected(c: JValue): string {
  const outs = arr(c.get("outputs"), "outputs");
  let s = "[";
  for (let i = 0; i < outs.length; i++) s += (i > 0 ? "," : "") + changesText(outs[i]);
  return s + "]";
}

function sha256Expected(c: JValue): string {
  const v = c.get("sha256");
  if (v !== null && v.kind == J_ARR) {
    let s = "[";
    for (let i = 0; i < v.items.length; i++) s += (i > 0 ? "," : "") + text(v.items[i], "sha256");
    return s + "]";
  }
  return text(v, "sha256");
}

// ------------------------------------------------------------------------------ driver

function readWhole(path: string): ArrayBuffer | null {
  const fd = openRead(path);
  if (fd < 0) {
    eprint("forge-core-cli vectors: " + path + ": " + errText(<u32>(-fd)) + "\n");
    return null;
  }
  let cap: usize = 1 << 20;
  let buf = heap.alloc(cap);
  let len: usize = 0;
  while (true) {
    if (len == cap) {
      cap <<= 1;
      buf = heap.realloc(buf, cap);
    }
    const n = readSome(<u32>fd, buf + len, cap - len);
    if (n < 0) {
      eprint("forge-core-cli vectors: " + path + ": " + errText(<u32>(-n)) + "\n");
      close(<u32>fd);
      return null;
    }
    if (n == 0) break;
    len += <usize>n;
  }
  close(<u32>fd);
  const out = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(out), buf, len);
  heap.free(buf);
  return out;
}

/** Checks every case of the vectors file at `path`: 0 all match, 1 a mismatch, 2 unusable file. */
export function checkVectors(path: string): i32 {
  const data = readWhole(path);
  if (data === null) return 2;
  const doc = parseJson(changetype<usize>(data), <usize>data.byteLength);
  if (doc === null) {
    eprint("forge-core-cli vectors: " + path + ": not JSON: " + jsonError + "\n");
    return 2;
  }
  const format = doc.get("format");
  if (format === null || format.kind != J_NUM || format.num != 1) {
    const f = format === null || format.kind == J_NULL ? "no format" : format.kind == J_NUM ? "format " + (<i64>format.num).toString() : "a bad format";
    eprint("forge-core-cli vectors: " + path + ": " + f + "; this command reads format 1\n");
    return 2;
  }
  const name = text(doc.get("name"), "name");
  const cases = arr(doc.get("cases"), "cases");
  if (bad != "") {
    eprint("forge-core-cli vectors: " + path + ": " + bad + "\n");
    return 2;
  }
  if (name != "sha256" && name != "xxh32" && name != "lz4" && name != "fastcdc" && name != "coalescer") {
    eprint("forge-core-cli vectors: " + path + ": unknown area \"" + name + "\"\n");
    return 2;
  }
  let mismatches = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    let got = "";
    let want = "";
    if (c.kind != J_OBJ) bad = "a case must be an object";
    else if (name == "sha256") { want = sha256Expected(c); if (bad == "") got = sha256Case(c); }
    else if (name == "xxh32") {
      want = (<u64>num(c.get("xxh32"), "xxh32")).toString();
      if (bad == "") {
        const p = inputBytes(c.get("input") as JValue);
        got = checksum__xxh32(p, inLen, <u32>num(c.get("seed"), "seed")).toString();
      }
    }
    else if (name == "lz4") { want = lz4Expected(c); if (bad == "") got = lz4Case(c); }
    else if (name == "fastcdc") { want = numbers(c.get("cutPoints")); if (bad == "") got = cdcCase(c); }
    else { want = coalescerExpected(c); if (bad == "") got = coalescerCase(c); }
    if (bad != "") {
      eprint("forge-core-cli vectors: " + path + ": case " + i.toString() + ": " + bad + "\n");
      return 2;
    }
    if (got != want) {
      mismatches++;
      eprint(name + " case " + i.toString() + ": expected " + clip(want) + ", got " + clip(got) + "\n");
    }
  }
  const out = new Out(1);
  out.str(name + ": " + cases.length.toString() + " cases, " + mismatches.toString() + " mismatches\n");
  out.flush();
  return mismatches == 0 ? 0 : 1;
}

function clip(s: string): string {
  return s.length > 120 ? s.substring(0, 120) + "…" : s;
}

