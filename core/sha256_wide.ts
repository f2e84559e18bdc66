// SHA-256 rounds on a precomputed schedule, for the SIMD module's one-shot and streaming hashing
// of a single message: sha256_x4.ts expands W[t] + K[t] of four consecutive blocks at once (a
// block's schedule depends on its data only), and these scalar rounds read their block's lane.
// Reached only under `if (ASC_FEATURE_SIMD)`, so the scalar module does not contain it.
import { sha256x4Schedule } from "./sha256_x4";

@inline function S0(a: u32): u32 {
  return rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
}
@inline function S1(e: u32): u32 {
  return rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
}
@inline function ch(e: u32, f: u32, g: u32): u32 {
  return g ^ (e & (f ^ g));
}

/**
 * Compresses `blocks` blocks at `p` (a multiple of 4) into the chaining value at `h`, four blocks
 * per schedule pass (one per lane).
 */
export function sha256BlocksWide(h: usize, p: usize, blocks: usize): void {
  while (blocks >= 4) {
    const kw = sha256x4Schedule(p, p + 64, p + 128, p + 192);
    roundsKW(h, kw);
    roundsKW(h, kw + 4);
    roundsKW(h, kw + 8);
    roundsKW(h, kw + 12);
    p += 256;
    blocks -= 4;
  }
}

/** One block's 64 rounds into `h`, W[t] + K[t] read from `kw + 16t` (one lane of the schedule). */
function roundsKW(h: usize, kw: usize): void {
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  let x: u32;
  let ab0: u32 = b ^ c, ab1: u32 = 0;
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 0);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 16);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 32);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 48);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 64);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 80);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 96);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 112);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 128);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 144);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 160);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 176);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 192);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 208);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 224);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 240);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 256);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 272);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 288);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 304);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 320);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 336);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 352);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 368);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 384);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 400);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 416);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 432);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 448);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 464);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 480);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 496);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 512);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 528);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 544);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 560);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 576);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 592);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 608);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 624);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 640);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 656);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 672);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 688);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 704);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 720);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 736);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 752);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 768);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 784);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 800);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 816);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 832);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 848);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 864);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 880);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  x = hh + S1(e) + ch(e, f, g) + load<u32>(kw, 896);
  ab1 = a ^ b; d += x; hh = x + S0(a) + (b ^ (ab1 & ab0));
  x = g + S1(d) + ch(d, e, f) + load<u32>(kw, 912);
  ab0 = hh ^ a; c += x; g = x + S0(hh) + (a ^ (ab0 & ab1));
  x = f + S1(c) + ch(c, d, e) + load<u32>(kw, 928);
  ab1 = g ^ hh; b += x; f = x + S0(g) + (hh ^ (ab1 & ab0));
  x = e + S1(b) + ch(b, c, d) + load<u32>(kw, 944);
  ab0 = f ^ g; a += x; e = x + S0(f) + (g ^ (ab0 & ab1));
  x = d + S1(a) + ch(a, b, c) + load<u32>(kw, 960);
  ab1 = e ^ f; hh += x; d = x + S0(e) + (f ^ (ab1 & ab0));
  x = c + S1(hh) + ch(hh, a, b) + load<u32>(kw, 976);
  ab0 = d ^ e; g += x; c = x + S0(d) + (e ^ (ab0 & ab1));
  x = b + S1(g) + ch(g, hh, a) + load<u32>(kw, 992);
  ab1 = c ^ d; f += x; b = x + S0(c) + (d ^ (ab1 & ab0));
  x = a + S1(f) + ch(f, g, hh) + load<u32>(kw, 1008);
  ab0 = b ^ c; e += x; a = x + S0(b) + (c ^ (ab0 & ab1));
  store<u32>(h, load<u32>(h, 0) + a, 0); store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8); store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16); store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24); store<u32>(h, load<u32>(h, 28) + hh, 28);
}
