// forge-core-cli: the Forge core as a WASI command (build/forge-core-cli.wasm), built from the
// same sources as build/forge-core.wasm. Any WASI preview-1 runtime runs it:
//   sha256 [files…]            sha256sum-compatible lines; stdin ("-") when no files
//   xxh32 [--seed N] [files…]  "<8 hex digits>  <name>" lines, stdin when no files
//   lz4 -c [-B4|-B5|-B6|-B7] | lz4 -d   LZ4 frames, stdin to stdout
//   cdc [--min N] [--avg N] [--max N]   FastCDC cut points of stdin, one per line
//   vectors <file.json>        checks a vectors file; exit 1 on any mismatch
// Exit status: 0 success, 1 failure (unreadable file, bad input, mismatch), 2 usage error.
// Errors go to stderr; inputs stream through bounded buffers, so input size is not limited.
import { cdcConfigure, cdcNextChunk } from "../fastcdc";
import { SHA256_STATE_SIZE, sha256Final, sha256Init, sha256Update } from "../sha256";
import { XXH32_STATE_SIZE, xxh32Digest, xxh32Init, xxh32Update } from "../xxh32_stream";
import { ERR_IO, ioErrno, lz4Decode, lz4Encode } from "./lz4_stream";
import { Out, parseU32 } from "./text";
import { checkVectors } from "./vectors";
import { close, eprint, errText, openRead, readFull, readSome } from "./wasi_io";

const USAGE = "usage: forge-core-cli sha256 [files…] | xxh32 [--seed N] [files…] | lz4 -c|-d [-B4..-B7] | cdc [--min N] [--avg N] [--max N] | vectors <file.json>\n";
const CODEC_ERRORS = ["bad-magic", "unsupported", "truncated", "corrupt", "checksum-mismatch", "too-large"];
const READ_BUF: usize = 1 << 20;

function usage(msg: string): i32 {
  eprint("forge-core-cli: " + msg + "\n" + USAGE);
  return 2;
}

/** Feeds a whole file (or stdin for "-") to `update(state, p, n)`; false after printing the error. */
function feed(cmd: string, name: string, st: usize, sha: bool): bool {
  let fd: u32 = 0;
  if (name != "-") {
    const r = openRead(name);
    if (r < 0) {
      eprint("forge-core-cli " + cmd + ": " + name + ": " + errText(<u32>(-r)) + "\n");
      return false;
    }
    fd = <u32>r;
  }
  const buf = heap.alloc(READ_BUF);
  let ok = true;
  while (true) {
    const n = readSome(fd, buf, READ_BUF);
    if (n < 0) {
      eprint("forge-core-cli " + cmd + ": " + name + ": " + errText(<u32>(-n)) + "\n");
      ok = false;
      break;
    }
    if (n == 0) break;
    if (sha) sha256Update(st, buf, <usize>n);
    else xxh32Update(st, buf, <usize>n);
  }
  heap.free(buf);
  if (fd != 0) close(fd);
  return ok;
}

/** sha256sum's file-name escaping: a name with "\" or a newline gets a leading "\". */
function escapeName(name: string): string {
  if (!name.includes("\\") && !name.includes("\n")) return name;
  return "\\" + name.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function cmdHash(args: string[], sha: bool): i32 {
  const cmd = sha ? "sha256" : "xxh32";
  let seed: u32 = 0;
  const files = new Array<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!sha && a == "--seed") {
      if (i + 1 >= args.length) return usage("--seed needs a value");
      const v = parseU32(args[++i]);
      if (v < 0) return usage("--seed must be an integer in 0..4294967295, got " + args[i]);
      seed = <u32>v;
    } else if (a.startsWith("--") && a.length > 2) {
      return usage("unknown option " + a + " for " + cmd);
    } else {
      files.push(a);
    }
  }
  if (files.length == 0) files.push("-");
  const st = heap.alloc(sha ? SHA256_STATE_SIZE : XXH32_STATE_SIZE);
  const digest = memory.data(32);
  const out = new Out(1);
  let status = 0;
  for (let i = 0; i < files.length; i++) {
    if (sha) sha256Init(st); else xxh32Init(st, seed);
    if (!feed(cmd, files[i], st, sha)) { status = 1; continue; }
    const name = escapeName(files[i]);
    if (name.startsWith("\\")) out.str("\\");
    if (sha) {
      sha256Final(st, digest);
      out.hex(digest, 32);
    } else {
      out.hex32(xxh32Digest(st));
    }
    out.str("  ");
    out.str(name.startsWith("\\") ? name.substring(1) : name);
    out.str("\n");
  }
  if (!out.flush()) return 1;
  return status;
}

function cmdLz4(args: string[]): i32 {
  let mode = "";
  let bs: u32 = 4 << 20;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a == "-c" || a == "-d") {
      if (mode != "" && mode != a) return usage("lz4: give one of -c and -d");
      mode = a;
    } else if (a == "-B4") bs = 65536;
    else if (a == "-B5") bs = 262144;
    else if (a == "-B6") bs = 1 << 20;
    else if (a == "-B7") bs = 4 << 20;
    else return usage("lz4: unknown argument " + a + " (the command reads stdin and writes stdout)");
  }
  if (mode == "") return usage("lz4: give -c (compress) or -d (decompress)");
  const r = mode == "-c" ? lz4Encode(bs) : lz4Decode();
  if (r < 0) return 0;
  if (r == ERR_IO) eprint("forge-core-cli lz4: I/O error: " + errText(ioErrno) + "\n");
  else eprint("forge-core-cli lz4: invalid LZ4 input: " + CODEC_ERRORS[r] + (r == 1 ? " (dictionary, legacy format or reserved flags)" : "") + "\n");
  return 1;
}

function cmdCdc(args: string[]): i32 {
  let min: i64 = 16384, avg: i64 = 65536, max: i64 = 262144;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a == "--min" || a == "--avg" || a == "--max") && i + 1 < args.length) {
      const v = parseU32(args[++i]);
      if (v < 0) return usage("cdc: " + a + " must be an integer, got " + args[i]);
      if (a == "--min") min = v; else if (a == "--avg") avg = v; else max = v;
    } else {
      return usage("cdc: unknown argument " + a);
    }
  }
  if (!(64 <= min && min <= avg && avg <= max && max <= (1 << 30))) {
    return usage("cdc: need 64 <= min <= avg <= max <= 1073741824, got " + min.toString() + " / " + avg.toString() + " / " + max.toString());
  }
  cdcConfigure(<u32>min, <u32>avg, <u32>max);
  // Window: a chunk is cut only with max bytes in view (or at the end of input).
  const m = <usize>max;
  const cap = m + READ_BUF;
  const buf = heap.alloc(cap);
  const out = new Out(1);
  let start: usize = 0, end: usize = 0;
  let offset: u64 = 0;
  let eof = false;
  while (true) {
    if (!eof && end - start < m) {
      memory.copy(buf, buf + start, end - start);
      end -= start;
      start = 0;
      const n = readFull(0, buf + end, cap - end);
      if (n < 0) { eprint("forge-core-cli cdc: stdin: " + errText(<u32>(-n)) + "\n"); return 1; }
      if (<usize>n < cap - end) eof = true;
      end += <usize>n;
    }
    if (start == end) break;
    const len = cdcNextChunk(buf + start, end - start);
    start += len;
    offset += <u64>len;
    out.u64(offset);
    out.str("\n");
  }
  return out.flush() ? 0 : 1;
}

function main(): i32 {
  const argv = process.argv;
  if (argv.length < 2) return usage("no command");
  const cmd = argv[1];
  const args = argv.slice(2);
  if (cmd == "sha256") return cmdHash(args, true);
  if (cmd == "xxh32") return cmdHash(args, false);
  if (cmd == "lz4") return cmdLz4(args);
  if (cmd == "cdc") return cmdCdc(args);
  if (cmd == "vectors") {
    if (args.length != 1) return usage("vectors: give one file");
    return checkVectors(args[0]);
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    eprint(USAGE);
    return 0;
  }
  return usage("unknown command " + cmd);
}

const code = main();
if (code != 0) process.exit(code);

// The WASI adapter that turns this command into a component allocates its own state through
// the module's allocator when one is exported; otherwise it grows memory behind the allocator's back.
export { cabi_realloc } from "../abi";
