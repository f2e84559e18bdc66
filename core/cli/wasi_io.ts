// Raw WASI preview-1 I/O for the command: reads and writes through caller buffers (no managed
// allocation per call), files opened through the preopened directories.
import {
  environ_get, environ_sizes_get, errno, errnoToString, fd_close, fd_prestat_dir_name, fd_prestat_get, fd_read, fd_write, lookupflags,
  path_open, prestat, rights,
} from "bindings/wasi_snapshot_preview1";

const IO: usize = memory.data(16, 8); // one iovec + the count it returns

/** Reads up to `cap` bytes into `buf`: the count (0 at end of input), or -errno. */
export function readSome(fd: u32, buf: usize, cap: usize): i64 {
  store<u32>(IO, <u32>buf, 0);
  store<u32>(IO, <u32>cap, 4);
  const err = fd_read(fd, IO, 1, IO + 8);
  if (err != errno.SUCCESS) return -(<i64>err);
  return <i64>load<u32>(IO, 8);
}

/** Fills `buf` with up to `cap` bytes, stopping early only at end of input: count, or -errno. */
export function readFull(fd: u32, buf: usize, cap: usize): i64 {
  let got: usize = 0;
  while (got < cap) {
    const n = readSome(fd, buf + got, cap - got);
    if (n < 0) return n;
    if (n == 0) break;
    got += <usize>n;
  }
  return <i64>got;
}

/** Writes all `len` bytes; returns 0 or the errno. */
export function writeAll(fd: u32, p: usize, len: usize): u32 {
  while (len > 0) {
    store<u32>(IO, <u32>p, 0);
    store<u32>(IO, <u32>len, 4);
    const err = fd_write(fd, IO, 1, IO + 8);
    if (err != errno.SUCCESS) return err;
    const n = <usize>load<u32>(IO, 8);
    p += n;
    len -= n;
  }
  return 0;
}

/** The message of a WASI errno. */
export function errText(err: u32): string {
  if (err == errno.NOENT) return "No such file or directory";
  if (err == errno.ISDIR) return "Is a directory";
  if (err == errno.ACCES || err == errno.NOTCAPABLE) return "Permission denied (not under a preopened directory?)";
  return errnoToString(<u16>err);
}

/** Writes a string to stderr (UTF-8). */
export function eprint(s: string): void {
  const b = String.UTF8.encode(s);
  writeAll(2, changetype<usize>(b), <usize>b.byteLength);
}

// ------------------------------------------------------------------------------ files

/** The name of preopened directory `fd`, or null when `fd` is not one. */
function preopenName(fd: u32): string | null {
  const st = memory.data(8, 4);
  if (fd_prestat_get(fd, changetype<prestat>(st)) != errno.SUCCESS) return null;
  if (load<u8>(st) != 0) return null; // not a directory
  const len = <usize>load<u32>(st, 4);
  const buf = new ArrayBuffer(<i32>len);
  if (fd_prestat_dir_name(fd, changetype<usize>(buf), len) != errno.SUCCESS) return null;
  let name = String.UTF8.decode(buf);
  // Some hosts count a trailing NUL.
  while (name.length > 0 && name.charCodeAt(name.length - 1) == 0) name = name.substring(0, name.length - 1);
  return name;
}

/** Strips "./" and trailing "/" so names compare as paths. */
function norm(p: string): string {
  while (p.startsWith("./")) p = p.substring(2);
  if (p == ".") return "";
  while (p.length > 1 && p.endsWith("/")) p = p.substring(0, p.length - 1);
  return p;
}

/**
 * Opens `path` for reading: the preopened directory with the longest matching prefix
 * resolves it (a relative path also tries a preopen named "."). Returns the fd, or -errno.
 */
export function openRead(path: string): i64 {
  let bestFd: i64 = -1;
  let bestLen: i32 = -1;
  let rest = "";
  const want = norm(path);
  const absolute = path.startsWith("/");
  for (let fd: u32 = 3; fd < 64; fd++) {
    const n = preopenName(fd);
    if (n === null) break;
    const name = norm(n);
    let sub: string | null = null;
    if (absolute && name.startsWith("/")) {
      if (name == "/") sub = want.substring(1);
      else if (want == name) sub = ".";
      else if (want.startsWith(name + "/")) sub = want.substring(name.length + 1);
    } else if (!absolute && !name.startsWith("/")) {
      if (name == "") sub = want;
      else if (want.startsWith(name + "/")) sub = want.substring(name.length + 1);
    }
    if (sub !== null && name.length > bestLen) {
      bestFd = fd;
      bestLen = name.length;
      rest = sub;
    }
  }
  if (bestFd < 0) {
    // No preopen named "." (jco preopens "/" only): resolve against $PWD, as a shell would.
    if (!absolute) {
      const pwd = envVar("PWD");
      if (pwd !== null && pwd.startsWith("/")) return openRead((pwd.endsWith("/") ? pwd : pwd + "/") + path);
    }
    return -(<i64>errno.NOTCAPABLE);
  }
  const p = String.UTF8.encode(rest);
  const out = memory.data(4, 4);
  const err = path_open(<u32>bestFd, lookupflags.SYMLINK_FOLLOW, changetype<usize>(p), <usize>p.byteLength, 0,
    rights.FD_READ, 0, 0, changetype<usize>(out));
  if (err != errno.SUCCESS) return -(<i64>err);
  return <i64>load<u32>(changetype<usize>(out));
}

/**
 * The value of environment variable `name`, or null. Read directly: the shim's process.env is
 * initialised at start-up and fails on hosts that pass an empty environment.
 */
function envVar(name: string): string | null {
  const sizes = memory.data(8, 4);
  if (environ_sizes_get(sizes, sizes + 4) != errno.SUCCESS) return null;
  const count = <usize>load<u32>(sizes);
  const dataSize = <usize>load<u32>(sizes, 4);
  if (count == 0 || dataSize == 0) return null;
  const buf = heap.alloc((count << 2) + dataSize);
  let found: string | null = null;
  if (environ_get(buf, buf + (count << 2)) == errno.SUCCESS) {
    const prefix = name + "=";
    for (let i: usize = 0; i < count && found === null; i++) {
      const p = <usize>load<u32>(buf + (i << 2));
      const s = String.UTF8.decodeUnsafe(p, buf + (count << 2) + dataSize - p, true);
      if (s.startsWith(prefix)) found = s.substring(prefix.length);
    }
  }
  heap.free(buf);
  return found;
}

export function close(fd: u32): void {
  fd_close(fd);
}
