// SHA-256 (FIPS 180-4) over unmanaged linear memory: a block compressor, a streaming state
// and a one-shot helper. No Canonical-ABI concerns here (see checksum_abi.ts).
//
// Speed notes: the 64 round constants and the message schedule live in static memory and are
// addressed with constant offsets; rounds are unrolled eight at a time with rotating variable
// roles so no register shuffling happens; big-endian words are read with load<u32> + bswap.
// No SIMD: Debian 12's wabt 1.0.32 `wasm2c` rejects SIMD modules, and the vectors must run the
// very same module natively.

// prettier-ignore
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Message schedule scratch (64 words). The module is single-threaded, so one is enough. */
const W: usize = memory.data(256, 16);

// Streaming state layout (SHA256_STATE_SIZE bytes, heap- or statically allocated):
//   +0   h0..h7      8 × u32 chaining value
//   +32  buffer      64 bytes of a partial block
//   +96  buffered    u32 bytes in buffer (0..63)
//   +104 total       u64 message length in bytes
export const SHA256_STATE_SIZE: usize = 112;
const OFF_BUF: usize = 32;
const OFF_BUFLEN: usize = 96;
const OFF_TOTAL: usize = 104;

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
@inline function maj(a: u32, b: u32, c: u32): u32 {
  return (a & b) | (c & (a | b));
}

/** Compresses `blocks` 64-byte blocks at `p` into the chaining value at `h`. */
export function sha256Blocks(h: usize, p: usize, blocks: usize): void {
  let h0 = load<u32>(h, 0), h1 = load<u32>(h, 4), h2 = load<u32>(h, 8), h3 = load<u32>(h, 12);
  let h4 = load<u32>(h, 16), h5 = load<u32>(h, 20), h6 = load<u32>(h, 24), h7 = load<u32>(h, 28);
  for (let n: usize = 0; n < blocks; n++, p += 64) {
    // Schedule: 16 big-endian words, then 48 expanded ones.
    for (let i: usize = 0; i < 64; i += 16) {
      store<u32>(W + i, bswap32(load<u32>(p + i)));
      store<u32>(W + i, bswap32(load<u32>(p + i, 4)), 4);
      store<u32>(W + i, bswap32(load<u32>(p + i, 8)), 8);
      store<u32>(W + i, bswap32(load<u32>(p + i, 12)), 12);
    }
    for (let t: usize = 0; t < 192; t += 8) {
      // q points at W[i-16] for i = 16 + t/4: every offset below is a positive constant.
      const q = W + t;
      store<u32>(q, s1(load<u32>(q, 56)) + load<u32>(q, 36) + s0(load<u32>(q, 4)) + load<u32>(q, 0), 64);
      store<u32>(q, s1(load<u32>(q, 60)) + load<u32>(q, 40) + s0(load<u32>(q, 8)) + load<u32>(q, 4), 68);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
    // Eight rounds per iteration; the roles of a..h rotate instead of the values moving.
    for (let t: usize = 0; t < 256; t += 32) {
      const w = W + t, k = K + t;
      let x: u32;
      x = hh + S1(e) + ch(e, f, g) + load<u32>(k, 0) + load<u32>(w, 0);
      d += x; hh = x + S0(a) + maj(a, b, c);
      x = g + S1(d) + ch(d, e, f) + load<u32>(k, 4) + load<u32>(w, 4);
      c += x; g = x + S0(hh) + maj(hh, a, b);
      x = f + S1(c) + ch(c, d, e) + load<u32>(k, 8) + load<u32>(w, 8);
      b += x; f = x + S0(g) + maj(g, hh, a);
      x = e + S1(b) + ch(b, c, d) + load<u32>(k, 12) + load<u32>(w, 12);
      a += x; e = x + S0(f) + maj(f, g, hh);
      x = d + S1(a) + ch(a, b, c) + load<u32>(k, 16) + load<u32>(w, 16);
      hh += x; d = x + S0(e) + maj(e, f, g);
      x = c + S1(hh) + ch(hh, a, b) + load<u32>(k, 20) + load<u32>(w, 20);
      g += x; c = x + S0(d) + maj(d, e, f);
      x = b + S1(g) + ch(g, hh, a) + load<u32>(k, 24) + load<u32>(w, 24);
      f += x; b = x + S0(c) + maj(c, d, e);
      x = a + S1(f) + ch(f, g, hh) + load<u32>(k, 28) + load<u32>(w, 28);
      e += x; a = x + S0(b) + maj(b, c, d);
    }
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
  const blocks = len >>> 6;
  if (blocks != 0) {
    sha256Blocks(st, p, blocks);
    p += blocks << 6; len -= blocks << 6;
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
