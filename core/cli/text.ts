// Buffered text output without a managed allocation per line, and strict number parsing.
import { writeAll } from "./wasi_io";

const HEX = "0123456789abcdef";

/** An output buffer on one fd (64 KiB, flushed when full and by flush()). */
export class Out {
  private buf: usize = heap.alloc(65536);
  private n: usize = 0;
  private failed: bool = false;
  constructor(private fd: u32) {}

  private room(k: usize): void {
    if (this.n + k > 65536) this.flush();
  }
  byte(b: u8): void {
    this.room(1);
    store<u8>(this.buf + this.n++, b);
  }
  str(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) this.byte(<u8>c);
      else {
        // Rare (file names): encode the rest as UTF-8 in one go.
        const b = String.UTF8.encode(s.substring(i));
        for (let j = 0; j < b.byteLength; j++) this.byte(load<u8>(changetype<usize>(b) + j));
        return;
      }
    }
  }
  hex(p: usize, len: usize): void {
    for (let i: usize = 0; i < len; i++) {
      const b = load<u8>(p + i);
      this.byte(<u8>HEX.charCodeAt(b >> 4));
      this.byte(<u8>HEX.charCodeAt(b & 15));
    }
  }
  hex32(v: u32): void {
    for (let s = 28; s >= 0; s -= 4) this.byte(<u8>HEX.charCodeAt((v >> s) & 15));
  }
  u64(v: u64): void {
    const tmp = memory.data(24);
    let i = 24;
    do {
      store<u8>(tmp + --i, <u8>(48 + v % 10));
      v /= 10;
    } while (v != 0);
    for (; i < 24; i++) this.byte(load<u8>(tmp + i));
  }
  /** Writes what is buffered; false once a write failed. */
  flush(): bool {
    if (this.n > 0 && !this.failed && writeAll(this.fd, this.buf, this.n) != 0) this.failed = true;
    this.n = 0;
    return !this.failed;
  }
}

/** A decimal u32 (digits only), or -1. */
export function parseU32(s: string): i64 {
  if (s.length == 0 || s.length > 10) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v > 0xffffffff ? -1 : v;
}
