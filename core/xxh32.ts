// xxHash32 (the checksum of the LZ4 frame format), over unmanaged linear memory.
//
// Scalar in the SIMD module too: the four accumulators fit one i32x4, but each 16-byte stripe then
// waits on two dependent i32x4.mul (pmulld, ~10 cycles each on x86) where the scalar code runs four
// independent 3-cycle imul chains. Measured here on 16 MiB: 1.76-1.84 GB/s with i32x4 against
// 1.79-2.09 GB/s scalar, so the vector version was not kept (xxHash's own XXH32 avoids SSE4.1 for
// the same reason).

const P1: u32 = 0x9e3779b1;
const P2: u32 = 0x85ebca77;
const P3: u32 = 0xc2b2ae3d;
const P4: u32 = 0x27d4eb2f;
const P5: u32 = 0x165667b1;

@inline function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * P2, 13) * P1;
}

/** xxHash32 of `len` bytes at `p` with `seed`. */
export function xxh32(p: usize, len: usize, seed: u32): u32 {
  const end = p + len;
  let h: u32;
  if (len >= 16) {
    let v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    const limit = end - 16;
    do {
      v1 = round(v1, load<u32>(p, 0));
      v2 = round(v2, load<u32>(p, 4));
      v3 = round(v3, load<u32>(p, 8));
      v4 = round(v4, load<u32>(p, 12));
      p += 16;
    } while (p <= limit);
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18);
  } else {
    h = seed + P5;
  }
  h += <u32>len; // the spec adds the length modulo 2^32
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
