// SHA-256 (FIPS 180-4) over unmanaged linear memory: a block compressor, a streaming state
// and a one-shot helper. No Canonical-ABI concerns here (see checksum_abi.ts).
//
// Speed notes: the rounds are unrolled with the constants inline, the message schedule lives in
// locals, and big-endian words are read with load<u32> + bswap (measured faster here than a
// schedule array in memory or an eight-round loop).
// The scalar module has no SIMD (Debian 12's wabt 1.0.32 `wasm2c` rejects it); the SIMD module
// expands the schedule of four blocks at a time in i32x4 lanes (sha256_wide.ts).
import { sha256BlocksWide } from "./sha256_wide";

// Streaming state layout (SHA256_STATE_SIZE bytes, heap- or statically allocated):
//   +0   h0..h7      8 × u32 chaining value
//   +32  buffer      64 bytes of a partial block
//   +96  buffered    u32 bytes in buffer (0..63)
//   +104 total       u64 message length in bytes
export const SHA256_STATE_SIZE: usize = 112;
const OFF_BUF: usize = 32;
const OFF_BUFLEN: usize = 96;
const OFF_TOTAL: usize = 104;
/** Blocks per call of sha256Blocks from sha256Update (256 KiB). */
const CHUNK_BLOCKS: usize = 4096;

@inline function bswap32(x: u32): u32 {
  return (rotl<u32>(x, 8) & 0x00ff00ff) | (rotr<u32>(x, 8) & 0xff00ff00);
}

@inline function S0(a: u32): u32 {
  return rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
}
@inline function S1(e: u32): u32 {
  return rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
}
@inline function s0(x: u32): u32 {
  return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
}
@inline function s1(x: u32): u32 {
  return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10);
}
@inline function ch(e: u32, f: u32, g: u32): u32 {
  return g ^ (e & (f ^ g));
}

/**
 * Compresses `blocks` 64-byte blocks at `p` into the chaining value at `h`.
 * The 64 rounds are written out: constants are immediates, and the roles of a..h rotate from
 * round to round instead of values moving between variables.
 */
export function sha256Blocks(h: usize, p: usize, blocks: usize): void {
  let h0 = load<u32>(h, 0), h1 = load<u32>(h, 4), h2 = load<u32>(h, 8), h3 = load<u32>(h, 12);
  let h4 = load<u32>(h, 16), h5 = load<u32>(h, 20), h6 = load<u32>(h, 24), h7 = load<u32>(h, 28);
  // The message schedule is a rolling window of 16 locals, expanded as the rounds go.
  let w0: u32 = 0, w1: u32 = 0, w2: u32 = 0, w3: u32 = 0, w4: u32 = 0, w5: u32 = 0, w6: u32 = 0, w7: u32 = 0, w8: u32 = 0, w9: u32 = 0, w10: u32 = 0, w11: u32 = 0, w12: u32 = 0, w13: u32 = 0, w14: u32 = 0, w15: u32 = 0;
  for (let n: usize = 0; n < blocks; n++, p += 64) {
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
    let x: u32;
    // maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's a ^ b is the next round's
    // b ^ c: ab0/ab1 carry it over, one operation less per round.
    let ab0: u32 = b ^ c, ab1: u32 = 0;
    w0 = bswap32(load<u32>(p, 0));
    x = hh + S1(e) + ch(e, f, g) + 0x428a2f98 + w0;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w1 = bswap32(load<u32>(p, 4));
    x = g + S1(d) + ch(d, e, f) + 0x71374491 + w1;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w2 = bswap32(load<u32>(p, 8));
    x = f + S1(c) + ch(c, d, e) + 0xb5c0fbcf + w2;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w3 = bswap32(load<u32>(p, 12));
    x = e + S1(b) + ch(b, c, d) + 0xe9b5dba5 + w3;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w4 = bswap32(load<u32>(p, 16));
    x = d + S1(a) + ch(a, b, c) + 0x3956c25b + w4;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w5 = bswap32(load<u32>(p, 20));
    x = c + S1(hh) + ch(hh, a, b) + 0x59f111f1 + w5;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w6 = bswap32(load<u32>(p, 24));
    x = b + S1(g) + ch(g, hh, a) + 0x923f82a4 + w6;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w7 = bswap32(load<u32>(p, 28));
    x = a + S1(f) + ch(f, g, hh) + 0xab1c5ed5 + w7;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w8 = bswap32(load<u32>(p, 32));
    x = hh + S1(e) + ch(e, f, g) + 0xd807aa98 + w8;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w9 = bswap32(load<u32>(p, 36));
    x = g + S1(d) + ch(d, e, f) + 0x12835b01 + w9;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w10 = bswap32(load<u32>(p, 40));
    x = f + S1(c) + ch(c, d, e) + 0x243185be + w10;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w11 = bswap32(load<u32>(p, 44));
    x = e + S1(b) + ch(b, c, d) + 0x550c7dc3 + w11;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w12 = bswap32(load<u32>(p, 48));
    x = d + S1(a) + ch(a, b, c) + 0x72be5d74 + w12;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w13 = bswap32(load<u32>(p, 52));
    x = c + S1(hh) + ch(hh, a, b) + 0x80deb1fe + w13;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w14 = bswap32(load<u32>(p, 56));
    x = b + S1(g) + ch(g, hh, a) + 0x9bdc06a7 + w14;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w15 = bswap32(load<u32>(p, 60));
    x = a + S1(f) + ch(f, g, hh) + 0xc19bf174 + w15;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w0 += s1(w14) + w9 + s0(w1);
    x = hh + S1(e) + ch(e, f, g) + 0xe49b69c1 + w0;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w1 += s1(w15) + w10 + s0(w2);
    x = g + S1(d) + ch(d, e, f) + 0xefbe4786 + w1;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w2 += s1(w0) + w11 + s0(w3);
    x = f + S1(c) + ch(c, d, e) + 0xfc19dc6 + w2;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w3 += s1(w1) + w12 + s0(w4);
    x = e + S1(b) + ch(b, c, d) + 0x240ca1cc + w3;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w4 += s1(w2) + w13 + s0(w5);
    x = d + S1(a) + ch(a, b, c) + 0x2de92c6f + w4;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w5 += s1(w3) + w14 + s0(w6);
    x = c + S1(hh) + ch(hh, a, b) + 0x4a7484aa + w5;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w6 += s1(w4) + w15 + s0(w7);
    x = b + S1(g) + ch(g, hh, a) + 0x5cb0a9dc + w6;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w7 += s1(w5) + w0 + s0(w8);
    x = a + S1(f) + ch(f, g, hh) + 0x76f988da + w7;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w8 += s1(w6) + w1 + s0(w9);
    x = hh + S1(e) + ch(e, f, g) + 0x983e5152 + w8;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w9 += s1(w7) + w2 + s0(w10);
    x = g + S1(d) + ch(d, e, f) + 0xa831c66d + w9;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w10 += s1(w8) + w3 + s0(w11);
    x = f + S1(c) + ch(c, d, e) + 0xb00327c8 + w10;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w11 += s1(w9) + w4 + s0(w12);
    x = e + S1(b) + ch(b, c, d) + 0xbf597fc7 + w11;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w12 += s1(w10) + w5 + s0(w13);
    x = d + S1(a) + ch(a, b, c) + 0xc6e00bf3 + w12;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w13 += s1(w11) + w6 + s0(w14);
    x = c + S1(hh) + ch(hh, a, b) + 0xd5a79147 + w13;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w14 += s1(w12) + w7 + s0(w15);
    x = b + S1(g) + ch(g, hh, a) + 0x6ca6351 + w14;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w15 += s1(w13) + w8 + s0(w0);
    x = a + S1(f) + ch(f, g, hh) + 0x14292967 + w15;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w0 += s1(w14) + w9 + s0(w1);
    x = hh + S1(e) + ch(e, f, g) + 0x27b70a85 + w0;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w1 += s1(w15) + w10 + s0(w2);
    x = g + S1(d) + ch(d, e, f) + 0x2e1b2138 + w1;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w2 += s1(w0) + w11 + s0(w3);
    x = f + S1(c) + ch(c, d, e) + 0x4d2c6dfc + w2;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w3 += s1(w1) + w12 + s0(w4);
    x = e + S1(b) + ch(b, c, d) + 0x53380d13 + w3;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w4 += s1(w2) + w13 + s0(w5);
    x = d + S1(a) + ch(a, b, c) + 0x650a7354 + w4;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w5 += s1(w3) + w14 + s0(w6);
    x = c + S1(hh) + ch(hh, a, b) + 0x766a0abb + w5;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w6 += s1(w4) + w15 + s0(w7);
    x = b + S1(g) + ch(g, hh, a) + 0x81c2c92e + w6;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w7 += s1(w5) + w0 + s0(w8);
    x = a + S1(f) + ch(f, g, hh) + 0x92722c85 + w7;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w8 += s1(w6) + w1 + s0(w9);
    x = hh + S1(e) + ch(e, f, g) + 0xa2bfe8a1 + w8;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w9 += s1(w7) + w2 + s0(w10);
    x = g + S1(d) + ch(d, e, f) + 0xa81a664b + w9;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w10 += s1(w8) + w3 + s0(w11);
    x = f + S1(c) + ch(c, d, e) + 0xc24b8b70 + w10;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w11 += s1(w9) + w4 + s0(w12);
    x = e + S1(b) + ch(b, c, d) + 0xc76c51a3 + w11;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w12 += s1(w10) + w5 + s0(w13);
    x = d + S1(a) + ch(a, b, c) + 0xd192e819 + w12;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w13 += s1(w11) + w6 + s0(w14);
    x = c + S1(hh) + ch(hh, a, b) + 0xd6990624 + w13;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w14 += s1(w12) + w7 + s0(w15);
    x = b + S1(g) + ch(g, hh, a) + 0xf40e3585 + w14;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w15 += s1(w13) + w8 + s0(w0);
    x = a + S1(f) + ch(f, g, hh) + 0x106aa070 + w15;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w0 += s1(w14) + w9 + s0(w1);
    x = hh + S1(e) + ch(e, f, g) + 0x19a4c116 + w0;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w1 += s1(w15) + w10 + s0(w2);
    x = g + S1(d) + ch(d, e, f) + 0x1e376c08 + w1;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w2 += s1(w0) + w11 + s0(w3);
    x = f + S1(c) + ch(c, d, e) + 0x2748774c + w2;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w3 += s1(w1) + w12 + s0(w4);
    x = e + S1(b) + ch(b, c, d) + 0x34b0bcb5 + w3;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w4 += s1(w2) + w13 + s0(w5);
    x = d + S1(a) + ch(a, b, c) + 0x391c0cb3 + w4;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w5 += s1(w3) + w14 + s0(w6);
    x = c + S1(hh) + ch(hh, a, b) + 0x4ed8aa4a + w5;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w6 += s1(w4) + w15 + s0(w7);
    x = b + S1(g) + ch(g, hh, a) + 0x5b9cca4f + w6;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w7 += s1(w5) + w0 + s0(w8);
    x = a + S1(f) + ch(f, g, hh) + 0x682e6ff3 + w7;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    w8 += s1(w6) + w1 + s0(w9);
    x = hh + S1(e) + ch(e, f, g) + 0x748f82ee + w8;
    ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
    w9 += s1(w7) + w2 + s0(w10);
    x = g + S1(d) + ch(d, e, f) + 0x78a5636f + w9;
    ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
    w10 += s1(w8) + w3 + s0(w11);
    x = f + S1(c) + ch(c, d, e) + 0x84c87814 + w10;
    ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
    w11 += s1(w9) + w4 + s0(w12);
    x = e + S1(b) + ch(b, c, d) + 0x8cc70208 + w11;
    ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
    w12 += s1(w10) + w5 + s0(w13);
    x = d + S1(a) + ch(a, b, c) + 0x90befffa + w12;
    ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
    w13 += s1(w11) + w6 + s0(w14);
    x = c + S1(hh) + ch(hh, a, b) + 0xa4506ceb + w13;
    ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
    w14 += s1(w12) + w7 + s0(w15);
    x = b + S1(g) + ch(g, hh, a) + 0xbef9a3f7 + w14;
    ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
    w15 += s1(w13) + w8 + s0(w0);
    x = a + S1(f) + ch(f, g, hh) + 0xc67178f2 + w15;
    ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += hh;
  }
  store<u32>(h, h0, 0); store<u32>(h, h1, 4); store<u32>(h, h2, 8); store<u32>(h, h3, 12);
  store<u32>(h, h4, 16); store<u32>(h, h5, 20); store<u32>(h, h6, 24); store<u32>(h, h7, 28);
}

/** Resets a state to the FIPS 180-4 initial hash value. */
export function sha256Init(st: usize): void {
  store<u32>(st, 0x6a09e667, 0); store<u32>(st, 0xbb67ae85, 4);
  store<u32>(st, 0x3c6ef372, 8); store<u32>(st, 0xa54ff53a, 12);
  store<u32>(st, 0x510e527f, 16); store<u32>(st, 0x9b05688c, 20);
  store<u32>(st, 0x1f83d9ab, 24); store<u32>(st, 0x5be0cd19, 28);
  store<u32>(st, 0, OFF_BUFLEN);
  store<u64>(st, 0, OFF_TOTAL);
}

/** Feeds `len` bytes at `p`. */
export function sha256Update(st: usize, p: usize, len: usize): void {
  if (len == 0) return;
  store<u64>(st, load<u64>(st, OFF_TOTAL) + <u64>len, OFF_TOTAL);
  let buffered = <usize>load<u32>(st, OFF_BUFLEN);
  if (buffered != 0) {
    const take = min<usize>(64 - buffered, len);
    memory.copy(st + OFF_BUF + buffered, p, take);
    buffered += take; p += take; len -= take;
    if (buffered < 64) {
      store<u32>(st, <u32>buffered, OFF_BUFLEN);
      return;
    }
    sha256Blocks(st, st + OFF_BUF, 1);
    buffered = 0;
  }
  // At most CHUNK_BLOCKS per call: V8 runs a new function on its baseline compiler and only the
  // NEXT call gets the optimized code, so one huge call would run unoptimized to its end.
  let blocks = len >>> 6;
  len -= blocks << 6;
  while (blocks != 0) {
    const n = min<usize>(blocks, CHUNK_BLOCKS);
    if (ASC_FEATURE_SIMD) {
      const wide = n & ~(<usize>3);
      sha256BlocksWide(st, p, wide);
      if (wide != n) sha256Blocks(st, p + (wide << 6), n - wide);
    } else {
      sha256Blocks(st, p, n);
    }
    p += n << 6; blocks -= n;
  }
  if (len != 0) memory.copy(st + OFF_BUF, p, len);
  store<u32>(st, <u32>len, OFF_BUFLEN);
}

/** Pads, compresses the last block(s) and writes the 32-byte digest to `out`. */
export function sha256Final(st: usize, out: usize): void {
  const buf = st + OFF_BUF;
  let n = <usize>load<u32>(st, OFF_BUFLEN);
  const bits = load<u64>(st, OFF_TOTAL) << 3;
  store<u8>(buf + n, 0x80);
  n++;
  if (n > 56) {
    memory.fill(buf + n, 0, 64 - n);
    sha256Blocks(st, buf, 1);
    n = 0;
  }
  memory.fill(buf + n, 0, 56 - n);
  store<u32>(buf, bswap32(<u32>(bits >>> 32)), 56);
  store<u32>(buf, bswap32(<u32>bits), 60);
  sha256Blocks(st, buf, 1);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap32(load<u32>(st + i)));
}

/** State used by the one-shot helpers (single-threaded module: one is enough). */
const ONE_SHOT: usize = memory.data(<i32>SHA256_STATE_SIZE, 16);

/** One-shot SHA-256 of `len` bytes at `p` into 32 bytes at `out`. */
export function sha256Digest(p: usize, len: usize, out: usize): void {
  sha256Init(ONE_SHOT);
  sha256Update(ONE_SHOT, p, len);
  sha256Final(ONE_SHOT, out);
}
