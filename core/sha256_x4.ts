// 4-lane multi-buffer SHA-256 (FIPS 180-4): four independent messages hashed at once, message i
// in lane i of every i32x4 (state word j of the four messages is one v128). Only the SIMD build
// (build/forge-core-simd.wasm) compiles this file's code: callers reach it under
// `if (ASC_FEATURE_SIMD)`, a compile-time constant, so the scalar module never contains a v128.
//
// wasm SIMD has no rotate: each rotr is two shifts and an or, so a vector round costs about
// 1.5 times a scalar one and the four lanes net about 2.5 times the scalar throughput.

/** Bytes of a 4-lane state: 8 words × 4 lanes, word j of lane i at +16j+4i. */
export const SHA256X4_STATE_SIZE: usize = 128;

// The static areas are functions, not module constants: a constant's memory.data is laid out in
// every build, and the scalar module must stay as it was. Binaryen folds each call to its address.
/** K[0..63]. */
function kTable(): usize {
  return memory.data<u32>([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
}
/** W[t] + K[t] for the block being compressed (64 × v128). */
function kwArea(): usize {
  return memory.data(64 * 16, 16);
}
/** The raw schedule W[t] (64 × v128), expanded before the rounds. */
function wsArea(): usize {
  return memory.data(64 * 16, 16);
}

@inline function rotr(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}
@inline function S0(a: v128): v128 {
  return v128.xor(v128.xor(rotr(a, 2), rotr(a, 13)), rotr(a, 22));
}
@inline function S1(e: v128): v128 {
  return v128.xor(v128.xor(rotr(e, 6), rotr(e, 11)), rotr(e, 25));
}
@inline function s0(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 7), rotr(x, 18)), i32x4.shr_u(x, 3));
}
@inline function s1(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 17), rotr(x, 19)), i32x4.shr_u(x, 10));
}
/** Four big-endian words of one message, as little-endian lanes. */
@inline function loadBE(p: usize): v128 {
  const x = v128.load(p);
  return i8x16.shuffle(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/** Sets all four lanes to the FIPS 180-4 initial hash value. */
export function sha256x4Init(st: usize): void {
  v128.store(st, i32x4.splat(0x6a09e667), 0); v128.store(st, i32x4.splat(0xbb67ae85), 16);
  v128.store(st, i32x4.splat(0x3c6ef372), 32); v128.store(st, i32x4.splat(0xa54ff53a), 48);
  v128.store(st, i32x4.splat(0x510e527f), 64); v128.store(st, i32x4.splat(0x9b05688c), 80);
  v128.store(st, i32x4.splat(0x1f83d9ab), 96); v128.store(st, i32x4.splat(0x5be0cd19), 112);
}

/**
 * Expands the schedule of one block of each lane: returns the area holding W[t] + K[t] of lane i
 * at +16t+4i (valid until the next call).
 */
export function sha256x4Schedule(p0: usize, p1: usize, p2: usize, p3: usize): usize {
  return schedule(p0, p1, p2, p3);
}

@inline function schedule(p0: usize, p1: usize, p2: usize, p3: usize): usize {
  const K = kTable(), KW = kwArea(), WS = wsArea();
  // W[0..15]: words j..j+3 of the four messages, transposed so each v128 is one word index.
  // WS keeps W[t] for the expansion, KW gets W[t] + K[t] for the rounds.
  for (let j: usize = 0; j < 64; j += 16) {
    const r0 = loadBE(p0 + j), r1 = loadBE(p1 + j), r2 = loadBE(p2 + j), r3 = loadBE(p3 + j);
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    const w0 = i64x2.shuffle(t0, t1, 0, 2), w1 = i64x2.shuffle(t0, t1, 1, 3);
    const w2 = i64x2.shuffle(t2, t3, 0, 2), w3 = i64x2.shuffle(t2, t3, 1, 3);
    const w = WS + (j << 2), kw = KW + (j << 2), k = K + j;
    v128.store(w, w0, 0); v128.store(w, w1, 16); v128.store(w, w2, 32); v128.store(w, w3, 48);
    v128.store(kw, i32x4.add(w0, v128.load32_splat(k, 0)), 0);
    v128.store(kw, i32x4.add(w1, v128.load32_splat(k, 4)), 16);
    v128.store(kw, i32x4.add(w2, v128.load32_splat(k, 8)), 32);
    v128.store(kw, i32x4.add(w3, v128.load32_splat(k, 12)), 48);
  }
  for (let t: usize = 16; t < 64; t++) {
    const w = WS + ((t - 16) << 4); // W[t-16]; W[t-15] at +16, W[t-7] at +144, W[t-2] at +224
    const wt = i32x4.add(
      i32x4.add(s1(v128.load(w, 224)), v128.load(w, 144)),
      i32x4.add(s0(v128.load(w, 16)), v128.load(w)),
    );
    v128.store(w, wt, 256);
    v128.store(KW + (t << 4), i32x4.add(wt, v128.load32_splat(K + (t << 2))));
  }
  return KW;
}

/**
 * Compresses `blocks` 64-byte blocks of each lane (lane i reads from `pi` on) into the 4-lane
 * chaining value at `st`.
 */
export function sha256x4Blocks(st: usize, p0: usize, p1: usize, p2: usize, p3: usize, blocks: usize): void {
  let h0 = v128.load(st, 0), h1 = v128.load(st, 16), h2 = v128.load(st, 32), h3 = v128.load(st, 48);
  let h4 = v128.load(st, 64), h5 = v128.load(st, 80), h6 = v128.load(st, 96), h7 = v128.load(st, 112);
  for (let n: usize = 0; n < blocks; n++) {
    const KW = schedule(p0, p1, p2, p3);
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
    let x: v128;
    // maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's a ^ b is the next round's b ^ c.
    let ab0 = v128.xor(b, c), ab1 = ab0;
    // Eight rounds per pass: the roles of a..h rotate instead of values moving.
    for (let kw = KW; kw < KW + 64 * 16; kw += 8 * 16) {
      x = i32x4.add(i32x4.add(hh, S1(e)), i32x4.add(v128.xor(g, v128.and(e, v128.xor(f, g))), v128.load(kw, 0)));
      ab1 = v128.xor(a, b); d = i32x4.add(d, x); hh = i32x4.add(x, i32x4.add(S0(a), v128.xor(b, v128.and(ab1, ab0))));
      x = i32x4.add(i32x4.add(g, S1(d)), i32x4.add(v128.xor(f, v128.and(d, v128.xor(e, f))), v128.load(kw, 16)));
      ab0 = v128.xor(hh, a); c = i32x4.add(c, x); g = i32x4.add(x, i32x4.add(S0(hh), v128.xor(a, v128.and(ab0, ab1))));
      x = i32x4.add(i32x4.add(f, S1(c)), i32x4.add(v128.xor(e, v128.and(c, v128.xor(d, e))), v128.load(kw, 32)));
      ab1 = v128.xor(g, hh); b = i32x4.add(b, x); f = i32x4.add(x, i32x4.add(S0(g), v128.xor(hh, v128.and(ab1, ab0))));
      x = i32x4.add(i32x4.add(e, S1(b)), i32x4.add(v128.xor(d, v128.and(b, v128.xor(c, d))), v128.load(kw, 48)));
      ab0 = v128.xor(f, g); a = i32x4.add(a, x); e = i32x4.add(x, i32x4.add(S0(f), v128.xor(g, v128.and(ab0, ab1))));
      x = i32x4.add(i32x4.add(d, S1(a)), i32x4.add(v128.xor(c, v128.and(a, v128.xor(b, c))), v128.load(kw, 64)));
      ab1 = v128.xor(e, f); hh = i32x4.add(hh, x); d = i32x4.add(x, i32x4.add(S0(e), v128.xor(f, v128.and(ab1, ab0))));
      x = i32x4.add(i32x4.add(c, S1(hh)), i32x4.add(v128.xor(b, v128.and(hh, v128.xor(a, b))), v128.load(kw, 80)));
      ab0 = v128.xor(d, e); g = i32x4.add(g, x); c = i32x4.add(x, i32x4.add(S0(d), v128.xor(e, v128.and(ab0, ab1))));
      x = i32x4.add(i32x4.add(b, S1(g)), i32x4.add(v128.xor(a, v128.and(g, v128.xor(hh, a))), v128.load(kw, 96)));
      ab1 = v128.xor(c, d); f = i32x4.add(f, x); b = i32x4.add(x, i32x4.add(S0(c), v128.xor(d, v128.and(ab1, ab0))));
      x = i32x4.add(i32x4.add(a, S1(f)), i32x4.add(v128.xor(hh, v128.and(f, v128.xor(g, hh))), v128.load(kw, 112)));
      ab0 = v128.xor(b, c); e = i32x4.add(e, x); a = i32x4.add(x, i32x4.add(S0(b), v128.xor(c, v128.and(ab0, ab1))));
    }
    h0 = i32x4.add(h0, a); h1 = i32x4.add(h1, b); h2 = i32x4.add(h2, c); h3 = i32x4.add(h3, d);
    h4 = i32x4.add(h4, e); h5 = i32x4.add(h5, f); h6 = i32x4.add(h6, g); h7 = i32x4.add(h7, hh);
    p0 += 64; p1 += 64; p2 += 64; p3 += 64;
  }
  v128.store(st, h0, 0); v128.store(st, h1, 16); v128.store(st, h2, 32); v128.store(st, h3, 48);
  v128.store(st, h4, 64); v128.store(st, h5, 80); v128.store(st, h6, 96); v128.store(st, h7, 112);
}
