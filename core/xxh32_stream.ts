// Streaming xxHash32: the same function as xxh32() in xxh32.ts, fed in pieces of any size.
// State (XXH32_STATE_SIZE bytes, caller-allocated): v1..v4 @0..12, seed @16, total length (u64)
// @24, buffered tail length @32, 16-byte tail buffer @36.

const P1: u32 = 0x9e3779b1;
const P2: u32 = 0x85ebca77;
const P3: u32 = 0xc2b2ae3d;
const P4: u32 = 0x27d4eb2f;
const P5: u32 = 0x165667b1;

export const XXH32_STATE_SIZE: usize = 56;

@inline function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * P2, 13) * P1;
}

export function xxh32Init(st: usize, seed: u32): void {
  store<u32>(st, seed + P1 + P2, 0);
  store<u32>(st, seed + P2, 4);
  store<u32>(st, seed, 8);
  store<u32>(st, seed - P1, 12);
  store<u32>(st, seed, 16);
  store<u64>(st, 0, 24);
  store<u32>(st, 0, 32);
}

function stripes(st: usize, p: usize, n: usize): void {
  let v1 = load<u32>(st, 0), v2 = load<u32>(st, 4), v3 = load<u32>(st, 8), v4 = load<u32>(st, 12);
  const end = p + n;
  while (p < end) {
    v1 = round(v1, load<u32>(p, 0));
    v2 = round(v2, load<u32>(p, 4));
    v3 = round(v3, load<u32>(p, 8));
    v4 = round(v4, load<u32>(p, 12));
    p += 16;
  }
  store<u32>(st, v1, 0);
  store<u32>(st, v2, 4);
  store<u32>(st, v3, 8);
  store<u32>(st, v4, 12);
}

export function xxh32Update(st: usize, p: usize, len: usize): void {
  store<u64>(st, load<u64>(st, 24) + <u64>len, 24);
  const buf = st + 36;
  let have = <usize>load<u32>(st, 32);
  if (have + len < 16) {
    memory.copy(buf + have, p, len);
    store<u32>(st, <u32>(have + len), 32);
    return;
  }
  if (have > 0) {
    const take: usize = 16 - have;
    memory.copy(buf + have, p, take);
    stripes(st, buf, 16);
    p += take;
    len -= take;
    have = 0;
  }
  const whole = len & ~(<usize>15);
  if (whole > 0) stripes(st, p, whole);
  memory.copy(buf, p + whole, len - whole);
  store<u32>(st, <u32>(len - whole), 32);
}

export function xxh32Digest(st: usize): u32 {
  const total = load<u64>(st, 24);
  let h: u32;
  if (total >= 16) {
    h = rotl<u32>(load<u32>(st, 0), 1) + rotl<u32>(load<u32>(st, 4), 7) + rotl<u32>(load<u32>(st, 8), 12) + rotl<u32>(load<u32>(st, 12), 18);
  } else {
    h = load<u32>(st, 16) + P5;
  }
  h += <u32>total;
  let p = st + 36;
  const end = p + <usize>load<u32>(st, 32);
  while (p + 4 <= end) {
    h = rotl<u32>(h + load<u32>(p) * P3, 17) * P4;
    p += 4;
  }
  while (p < end) {
    h = rotl<u32>(h + <u32>load<u8>(p) * P5, 11) * P1;
    p++;
  }
  h ^= h >>> 15;
  h *= P2;
  h ^= h >>> 13;
  h *= P3;
  h ^= h >>> 16;
  return h;
}
