// LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md):
// a fast greedy compressor (the "lz4 -1" strategy: hash table of 4-byte sequences, skip
// acceleration on incompressible data) and a bounds-checked decompressor that never reads or
// writes outside [src, src+srcLen) / [dst, dst+dstCap) and returns a negative error code on bad
// input instead of trapping.

/** Decoder results below zero: the input is not a valid block. */
export const LZ4_ERR_CORRUPT: i32 = -1;
/** The decoded data would not fit in `dstCap` bytes. */
export const LZ4_ERR_OVERFLOW: i32 = -2;

const MINMATCH: usize = 4;
/** The last match must start at least 12 bytes before the end of the block. */
const MFLIMIT: usize = 12;
/** The last 5 bytes of a block are always literals. */
const LASTLITERALS: usize = 5;
const MAX_DISTANCE: usize = 65535;
/** Skip strength: after 2^6 failed probes, the step grows by one (as in lz4). */
const SKIP_TRIGGER: u32 = 6;

/** log2 of the hash table's entry count: 2^13 u32 entries = 32 KiB, within L1 (lz4 -1 uses 2^12 and
 * 16 KiB; one more bit buys ~0.8% ratio at no measurable speed cost). */
const HASH_LOG: u32 = 13;
const HASH_ENTRIES: usize = 1 << HASH_LOG;
/** The hash table, reused by every call (the module is single-threaded). */
const HASH_TABLE: usize = memory.data(<i32>(HASH_ENTRIES << 2), 16);

/** Position `h`'s entry: u32 positions, or u16 in a block of at most 64 KiB (half the table to clear and keep in cache, as lz4's byU16 tables). */
// @ts-ignore: decorator
@inline function tableGet(h: usize, far: bool): usize {
  return far ? <usize>load<u32>(HASH_TABLE + (h << 2)) : <usize>load<u16>(HASH_TABLE + (h << 1));
}
// @ts-ignore: decorator
@inline function tableSet(h: usize, pos: usize, far: bool): void {
  if (far) store<u32>(HASH_TABLE + (h << 2), <u32>pos);
  else store<u16>(HASH_TABLE + (h << 1), <u16>pos);
}

/** Worst-case compressed size of `n` input bytes (as LZ4_COMPRESSBOUND). */
// @ts-ignore: decorator
@inline export function lz4Bound(n: usize): usize {
  return n + n / 255 + 16;
}

// Hash of the 5 bytes at p (64-bit multiplicative, as lz4's hash5 on 64-bit targets).
// @ts-ignore: decorator
@inline function hashAt(p: usize): usize {
  return <usize>(((load<u64>(p) << 24) * 889523592379) >> (64 - HASH_LOG));
}

/** Number of equal bytes at a and b, comparing no further than `limit` (exclusive) for a. */
// @ts-ignore: decorator
@inline function matchLength(a: usize, b: usize, limit: usize): usize {
  const start = a;
  while (a + 8 <= limit) {
    const diff = load<u64>(a) ^ load<u64>(b);
    if (diff != 0) return a - start + <usize>(ctz<u64>(diff) >> 3);
    a += 8;
    b += 8;
  }
  while (a < limit && load<u8>(a) == load<u8>(b)) {
    a++;
    b++;
  }
  return a - start;
}

/** For offsets 1..7: the smallest multiple of the offset that is >= 8 (index 0 unused). */
const PERIOD_DIST: usize = memory.data<u8>([0, 8, 8, 9, 8, 10, 12, 14]);

/** Copies `n` bytes 8 at a time; may write up to 7 bytes past dst+n (the caller leaves room). */
// @ts-ignore: decorator
@inline function wildCopy(dst: usize, src: usize, n: usize): void {
  const end = dst + n;
  do {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
  } while (dst < end);
}

// @ts-ignore: decorator
@inline function writeLength(op: usize, len: usize): usize {
  while (len >= 255) {
    store<u8>(op++, 255);
    len -= 255;
  }
  store<u8>(op++, <u8>len);
  return op;
}

// xxHash32 primes (as core/xxh32.ts): the frame encoder hashes its input during compression.
export const XXH_P1: u32 = 0x9e3779b1;
export const XXH_P2: u32 = 0x85ebca77;
export const XXH_P3: u32 = 0xc2b2ae3d;
export const XXH_P4: u32 = 0x27d4eb2f;
export const XXH_P5: u32 = 0x165667b1;

/**
 * Size of an xxh32 stripe state: lanes v1..v4 @0..12 and the address of the first byte not
 * hashed yet @16 (a whole number of 16-byte stripes after the start of the hashed data).
 */
export const XXH_LANES_SIZE: usize = 24;

/** The compressor hashes its input in pieces of at least this many bytes, just behind itself. */
const HASH_CHUNK: usize = 2048;

// @ts-ignore: decorator
@inline function xxhRound(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * XXH_P2, 13) * XXH_P1;
}

/** Hashes every whole 16-byte stripe in [state.hp, end) into `st` (see XXH_LANES_SIZE). */
export function xxhStripes(st: usize, end: usize): void {
  let p = <usize>load<u32>(st, 16);
  let v1 = load<u32>(st, 0), v2 = load<u32>(st, 4), v3 = load<u32>(st, 8), v4 = load<u32>(st, 12);
  while (p + 16 <= end) {
    v1 = xxhRound(v1, load<u32>(p, 0));
    v2 = xxhRound(v2, load<u32>(p, 4));
    v3 = xxhRound(v3, load<u32>(p, 8));
    v4 = xxhRound(v4, load<u32>(p, 12));
    p += 16;
  }
  store<u32>(st, v1, 0);
  store<u32>(st, v2, 4);
  store<u32>(st, v3, 8);
  store<u32>(st, v4, 12);
  store<u32>(st, <u32>p, 16);
}

/**
 * Compresses `srcLen` bytes at `src` into [dst, dst+dstCap). Returns the compressed size, or 0
 * when the block would not fit in `dstCap` bytes (then the caller stores it raw). Nothing is
 * written at or past dst+dstCap: every sequence checks its worst case first, with room for the
 * 8-byte literal copies' overrun. With dstCap >= lz4Bound(srcLen) it always succeeds.
 * Matches never reach before `src`, so every block is independent.
 */
export function lz4CompressBlock(src: usize, srcLen: usize, dst: usize, dstCap: usize): usize {
  if (srcLen <= MAX_DISTANCE + 1) return compressBlock(src, srcLen, dst, dstCap, 0, false, false);
  return compressBlock(src, srcLen, dst, dstCap, 0, false, true);
}

/**
 * lz4CompressBlock that also feeds the xxh32 state `st` (see XXH_LANES_SIZE) with the input it
 * has passed, in pieces of HASH_CHUNK bytes while they are still in cache, so the content
 * checksum costs no second pass over memory. The output bytes are the same. The caller hashes
 * what is left of the block (xxhStripes up to src + srcLen), also after a 0 (stored raw) result.
 */
export function lz4CompressBlockHashed(src: usize, srcLen: usize, dst: usize, dstCap: usize, st: usize): usize {
  if (srcLen <= MAX_DISTANCE + 1) return compressBlock(src, srcLen, dst, dstCap, st, true, false);
  return compressBlock(src, srcLen, dst, dstCap, st, true, true);
}

// @ts-ignore: decorator
// `far`: the block is longer than MAX_DISTANCE + 1 bytes, so a candidate may be out of reach; in a
// shorter block every candidate is within reach and the distance test is left out (the same
// output: it could not fail there).
@inline function compressBlock(src: usize, srcLen: usize, dst: usize, dstCap: usize, st: usize, hash: bool, far: bool): usize {
  let hashedTo: usize = 0;
  if (hash) hashedTo = <usize>load<u32>(st, 16) + HASH_CHUNK;
  let op = dst;
  const olimit = dst + dstCap;
  let anchor = src;
  const iend = src + srcLen;
  if (srcLen >= MFLIMIT + 1) {
    memory.fill(HASH_TABLE, 0, far ? HASH_ENTRIES << 2 : HASH_ENTRIES << 1);
    const base = src;
    const mflimit = iend - MFLIMIT;
    const matchlimit = iend - LASTLITERALS;
    let ip = src;
    // Position 0 is "no entry": a probe of it is rejected by the 4-byte comparison anyway.
    tableSet(hashAt(ip), 0, far);
    ip++;
    let forwardH = hashAt(ip);

    let done = false;
    while (!done) {
      let match: usize = 0;
      // Find a match: probe forward, accelerating over data that does not compress.
      let forwardIp = ip;
      let step: usize = 1;
      let searchMatchNb: u32 = 1 << SKIP_TRIGGER;
      while (true) {
        const h = forwardH;
        ip = forwardIp;
        forwardIp += step;
        step = <usize>(searchMatchNb++ >> SKIP_TRIGGER);
        if (forwardIp > mflimit) {
          done = true;
          break;
        }
        match = base + tableGet(h, far);
        forwardH = hashAt(forwardIp);
        tableSet(h, ip - base, far);
        if ((!far || match + MAX_DISTANCE >= ip) && load<u32>(match) == load<u32>(ip)) break;
      }
      if (done) break;

      // Extend the match backwards over bytes that were going to be literals.
      while (ip > anchor && match > base && load<u8>(ip - 1) == load<u8>(match - 1)) {
        ip--;
        match--;
      }

      // Literals of this sequence (worst case: token, length bytes, literals, offset, and the
      // 8 bytes a later sequence or the copy overrun may need).
      const litLen = ip - anchor;
      if (op + litLen + litLen / 255 + 12 > olimit) return 0;
      let token = op++;
      if (litLen >= 15) {
        store<u8>(token, 15 << 4);
        op = writeLength(op, litLen - 15);
      } else {
        store<u8>(token, <u8>(litLen << 4));
      }
      if (litLen != 0) wildCopy(op, anchor, litLen);
      op += litLen;

      // One or more matches starting at ip (the inner loop chains matches with no literals).
      while (true) {
        const ml = matchLength(ip + MINMATCH, match + MINMATCH, matchlimit);
        if (op + 2 + ml / 255 + 1 + 8 > olimit) return 0;
        store<u16>(op, <u16>(ip - match));
        op += 2;
        ip += ml + MINMATCH;
        if (ml >= 15) {
          store<u8>(token, load<u8>(token) | 15);
          op = writeLength(op, ml - 15);
        } else {
          store<u8>(token, load<u8>(token) | <u8>ml);
        }
        anchor = ip;
        if (hash && anchor >= hashedTo) {
          xxhStripes(st, anchor);
          hashedTo = anchor + HASH_CHUNK;
        }
        if (ip > mflimit) {
          done = true;
          break;
        }

        // Fill the table at ip-2, then test whether ip starts another match right away.
        tableSet(hashAt(ip - 2), ip - 2 - base, far);
        const h = hashAt(ip);
        match = base + tableGet(h, far);
        tableSet(h, ip - base, far);
        if ((!far || match + MAX_DISTANCE >= ip) && load<u32>(match) == load<u32>(ip)) {
          token = op++;
          store<u8>(token, 0);
          continue;
        }
        break;
      }
      if (done) break;
      ip++;
      forwardH = hashAt(ip);
    }
  }

  // Last literals.
  const lastRun = iend - anchor;
  if (op + 1 + lastRun / 255 + 1 + lastRun > olimit) return 0;
  if (lastRun >= 15) {
    store<u8>(op++, 15 << 4);
    op = writeLength(op, lastRun - 15);
  } else {
    store<u8>(op++, <u8>(lastRun << 4));
  }
  memory.copy(op, anchor, lastRun);
  op += lastRun;
  return op - dst;
}

/**
 * Decodes the block at [src, src+srcLen) into [dst, dst+dstCap). Matches may reach back to
 * `lowLimit` (== dst for an independent block; earlier output for linked blocks).
 * Returns the decoded size, LZ4_ERR_CORRUPT or LZ4_ERR_OVERFLOW. Never touches memory outside
 * the two ranges (and [lowLimit, dst) for reads), and always terminates.
 */
export function lz4DecompressBlock(src: usize, srcLen: usize, dst: usize, dstCap: usize, lowLimit: usize): i64 {
  let ip = src;
  const iend = src + srcLen;
  let op = dst;
  const oend = dst + dstCap;
  if (srcLen == 0) return LZ4_ERR_CORRUPT;
  // The token of the next sequence: loaded together with the previous offset on the shortcut.
  let token = <usize>load<u8>(ip++);

  // Shortcut bounds: with ip <= ilimit, 32 input bytes are left, so this is not the last
  // sequence (that one ends the block after its literals) and its offset, one length byte and
  // the next token are readable; with op <= olimit, 40 output bytes are left, so 16 + 24 whole
  // bytes can be copied. Too short a block or output: ilimit 0 (ip >= 1) turns the shortcut off.
  const roomy = srcLen > 32 && dstCap > 40;
  const ilimit: usize = roomy ? iend - 32 : 0;
  const olimit: usize = roomy ? oend - 40 : 0;

  while (true) {
    // The shortcut, a loop of its own (its values stay in registers): literals of at most 14
    // bytes and a match at an offset of at least 8, of at most 18 bytes or with one length byte
    // (up to 273). Anything else leaves the loop for the general path below, which decodes the
    // same sequence again from its token.
    while (ip <= ilimit && op <= olimit) {
      const lit = token >> 4;
      const mlc = token & 15;
      if (lit == 15) break;
      if (ASC_FEATURE_SIMD) {
        v128.store(op, v128.load(ip));
      } else {
        store<u64>(op, load<u64>(ip));
        store<u64>(op, load<u64>(ip, 8), 8);
      }
      // Offset and next token in one load: the chain from one token to the next is one load.
      const w = load<u32>(ip + lit);
      const off = <usize>(w & 0xffff);
      const o = op + lit;
      if (off < 8 || off > o - lowLimit) break; // short (overlapping) or invalid: general path
      let m = o - off;
      if (mlc != 15) {
        // Forward 8-byte steps: with off >= 8 each load reads only bytes already final.
        // 24 bytes, no more: o is at most op + 14 and olimit leaves 40 bytes after op.
        if (ASC_FEATURE_SIMD && off >= 16) {
          v128.store(o, v128.load(m));
          store<u64>(o, load<u64>(m, 16), 16);
        } else {
          store<u64>(o, load<u64>(m));
          store<u64>(o, load<u64>(m, 8), 8);
          store<u64>(o, load<u64>(m, 16), 16);
        }
        op = o + mlc + MINMATCH;
        ip += lit + 3;
        token = <usize>((w >> 16) & 0xff);
        continue;
      }
      // A long match with one length byte: 16-byte steps, with room for their overrun.
      const b = w >> 16 & 0xff;
      if (b == 255) break;
      const mend = o + 15 + MINMATCH + <usize>b;
      if (mend + 16 > oend) break;
      let d = o;
      if (ASC_FEATURE_SIMD && off >= 16) {
        do {
          v128.store(d, v128.load(m));
          d += 16;
          m += 16;
        } while (d < mend);
      } else {
        do {
          store<u64>(d, load<u64>(m));
          store<u64>(d, load<u64>(m, 8), 8);
          d += 16;
          m += 16;
        } while (d < mend);
      }
      op = mend;
      ip += lit + 4;
      token = <usize>load<u8>(ip - 1);
    }

    // Literal length.
    let litLen = token >> 4;
    if (litLen == 15) {
      let b: usize;
      do {
        if (ip >= iend) return LZ4_ERR_CORRUPT;
        b = <usize>load<u8>(ip++);
        litLen += b;
      } while (b == 255);
    }
    // Fast path: short literals with room to copy 16 bytes at once on both sides.
    if (litLen <= 16 && iend - ip >= 32 && oend - op >= 32) {
      store<u64>(op, load<u64>(ip));
      store<u64>(op, load<u64>(ip, 8), 8);
    } else {
      if (litLen > iend - ip) return LZ4_ERR_CORRUPT;
      if (litLen > oend - op) return LZ4_ERR_OVERFLOW;
      if (litLen <= 64 && iend - ip - litLen >= 8 && oend - op - litLen >= 8) {
        // Medium runs: 8-byte steps beat a memory.copy call (room for the overrun checked).
        wildCopy(op, ip, litLen);
      } else {
        memory.copy(op, ip, litLen);
      }
    }
    ip += litLen;
    op += litLen;
    if (ip == iend) return <i64>(op - dst); // the last sequence: literals only

    // Match offset and length.
    if (iend - ip < 2) return LZ4_ERR_CORRUPT;
    const offset = <usize>load<u16>(ip);
    ip += 2;
    if (offset == 0 || offset > op - lowLimit) return LZ4_ERR_CORRUPT;
    let ml = token & 15;
    if (ml == 15) {
      let b: usize;
      do {
        if (ip >= iend) return LZ4_ERR_CORRUPT;
        b = <usize>load<u8>(ip++);
        ml += b;
      } while (b == 255);
    }
    ml += MINMATCH;
    if (ml > oend - op) return LZ4_ERR_OVERFLOW;

    let m = op - offset;
    const mend = op + ml;
    if (offset >= 8 && oend - mend >= 8) {
      // Non-overlapping 8-byte steps (overlap of >= 8 bytes is fine); room for the overrun.
      do {
        store<u64>(op, load<u64>(m));
        op += 8;
        m += 8;
      } while (op < mend);
    } else if (oend - mend >= 8) {
      // Short offset (a repeating pattern, e.g. runs of one byte): write the first 8 bytes one by
      // one, then copy 8 at a time from a distance that is a multiple of the period and >= 8.
      for (let i = 0; i < 8; i++) store<u8>(op + i, load<u8>(m + i));
      op += 8;
      m = op - <usize>load<u8>(PERIOD_DIST + offset);
      while (op < mend) {
        store<u64>(op, load<u64>(m));
        op += 8;
        m += 8;
      }
    } else if (offset >= ml) {
      memory.copy(op, m, ml);
    } else {
      // Short offset: the match repeats a pattern; copy byte by byte.
      while (op < mend) store<u8>(op++, load<u8>(m++));
    }
    op = mend;
    if (ip >= iend) return LZ4_ERR_CORRUPT; // a block ends with literals, never after a match
    token = <usize>load<u8>(ip++);
  }
  return LZ4_ERR_CORRUPT; // not reached (the loop only returns); the compiler cannot tell
}
