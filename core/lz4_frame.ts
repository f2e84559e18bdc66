// LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md).
//
// Encoder: version 01, independent blocks, optional block checksums, content size and content
// checksum; a block that does not shrink is stored raw (high bit of its size set).
// Decoder: every frame the reference `lz4` CLI writes (linked or independent blocks, every block
// size, block/content checksums, content size), skippable frames, and any number of
// concatenated frames. Every checksum is verified. Output grows geometrically but never past the
// caller's `maxSize`; any malformed input returns an error code (CodecError below) instead of
// trapping.
import {
  lz4Bound, lz4CompressBlock, lz4CompressBlockHashed, lz4DecompressBlock, LZ4_ERR_OVERFLOW, XXH_LANES_SIZE,
  XXH_P1, XXH_P2, XXH_P3, XXH_P4, XXH_P5, xxhStripes,
} from "./lz4_block";
import { xxh32 } from "./xxh32";
import { canAlloc, MAX_ALLOC } from "./abi";

// WIT enum codec-error, in declaration order.
export const ERR_BAD_MAGIC: i32 = 0;
export const ERR_UNSUPPORTED: i32 = 1;
export const ERR_TRUNCATED: i32 = 2;
export const ERR_CORRUPT: i32 = 3;
export const ERR_CHECKSUM: i32 = 4;
export const ERR_TOO_LARGE: i32 = 5;

const MAGIC: u32 = 0x184d2204;
/** The legacy format (`lz4 -l`): 8 MiB independent blocks, no header fields, no end mark. */
const LEGACY_MAGIC: u32 = 0x184c2102;
const LEGACY_BLOCK: usize = 8 << 20;
const SKIPPABLE_MASK: u32 = 0xfffffff0;
const SKIPPABLE_MAGIC: u32 = 0x184d2a50;

// FLG bits.
const FLG_VERSION: u8 = 0x40;
const FLG_INDEPENDENT: u8 = 0x20;
const FLG_BLOCK_CHECKSUM: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_DICT_ID: u8 = 0x01;

/** Largest output buffer allocated up front on the word of a frame header. */
const PRESIZE_MAX: u64 = 64 << 20;

/** Largest frame header: magic 4 + FLG + BD + content size 8 + dict id 4 + HC. */
export const MAX_HEADER: usize = 19;

/** Block size id (4..7) for a block size in bytes, or 0 when it is not one of the four. */
export function blockSizeId(blockSize: u32): u32 {
  if (blockSize == 65536) return 4;
  if (blockSize == 262144) return 5;
  if (blockSize == 1048576) return 6;
  if (blockSize == 4194304) return 7;
  return 0;
}

/**
 * Normalizes a block size to one of the four the format allows: the smallest allowed size
 * >= `blockSize` (so 0 means 64 KiB), capped at 4 MiB.
 */
export function normalizeBlockSize(blockSize: u32): u32 {
  if (blockSize <= 65536) return 65536;
  if (blockSize <= 262144) return 262144;
  if (blockSize <= 1048576) return 1048576;
  return 4194304;
}

/** Writes a frame header at `dst` (room for MAX_HEADER bytes); returns its length. */
export function writeHeader(dst: usize, contentSize: u64, blockSize: u32, withSize: bool, contentChecksum: bool, blockChecksum: bool): usize {
  store<u32>(dst, MAGIC);
  let flg: u8 = FLG_VERSION | FLG_INDEPENDENT;
  if (blockChecksum) flg |= FLG_BLOCK_CHECKSUM;
  if (withSize) flg |= FLG_CONTENT_SIZE;
  if (contentChecksum) flg |= FLG_CONTENT_CHECKSUM;
  store<u8>(dst, flg, 4);
  store<u8>(dst, <u8>(blockSizeId(normalizeBlockSize(blockSize)) << 4), 5);
  let n: usize = 6;
  if (withSize) {
    store<u64>(dst + n, contentSize);
    n += 8;
  }
  // Header checksum: second byte of xxh32 over the descriptor (FLG .. end of optional fields).
  store<u8>(dst + n, <u8>(xxh32(dst + 4, n - 4, 0) >> 8));
  return n + 1;
}

/** Upper bound of lz4FrameBlocks' output for `len` input bytes. */
export function blocksBound(len: usize, blockSize: u32): usize {
  const bs = <usize>normalizeBlockSize(blockSize);
  const nBlocks = (len + bs - 1) / bs;
  // Each block: 4-byte size + at most its raw size (incompressible blocks are stored raw) + 4 checksum.
  return len + nBlocks * 8;
}

/** A running xxh32 (seed 0), fed by the compressor as it goes (see lz4CompressBlockHashed). */
const XXH_STATE: usize = memory.data(<i32>XXH_LANES_SIZE, 8);

/** Starts an xxh32 (seed 0) of data beginning at `start`. */
function xxhBegin(start: usize): void {
  store<u32>(XXH_STATE, XXH_P1 + XXH_P2, 0);
  store<u32>(XXH_STATE, XXH_P2, 4);
  store<u32>(XXH_STATE, 0, 8);
  store<u32>(XXH_STATE, 0 - XXH_P1, 12);
  store<u32>(XXH_STATE, <u32>start, 16);
}

/** Finishes the xxh32 of the `len` bytes at `start` begun by xxhBegin(start): as core/xxh32.ts ends. */
function xxhEnd(start: usize, len: usize): u32 {
  const end = start + len;
  xxhStripes(XXH_STATE, end);
  let h: u32;
  if (len >= 16) {
    h = rotl<u32>(load<u32>(XXH_STATE, 0), 1) + rotl<u32>(load<u32>(XXH_STATE, 4), 7) +
      rotl<u32>(load<u32>(XXH_STATE, 8), 12) + rotl<u32>(load<u32>(XXH_STATE, 12), 18);
  } else {
    h = XXH_P5;
  }
  h += <u32>len;
  let p = <usize>load<u32>(XXH_STATE, 16);
  while (p + 4 <= end) {
    h = rotl<u32>(h + load<u32>(p) * XXH_P3, 17) * XXH_P4;
    p += 4;
  }
  while (p < end) {
    h = rotl<u32>(h + <u32>load<u8>(p) * XXH_P5, 11) * XXH_P1;
    p++;
  }
  h ^= h >>> 15;
  h *= XXH_P2;
  h ^= h >>> 13;
  h *= XXH_P3;
  h ^= h >>> 16;
  return h;
}

/** The content checksum of the last writeBlocks call made with `contentChecksum`. */
export let blocksContentChecksum: u32 = 0;

/**
 * Encodes `len` bytes at `src` as independent blocks of `blockSize` (normalized) at `dst`
 * (room for blocksBound bytes). Returns the bytes written. With `contentChecksum`, also leaves
 * xxh32(src, len, 0) in blocksContentChecksum, computed during compression (no second pass).
 */
export function writeBlocks(dst: usize, src: usize, len: usize, blockSize: u32, blockChecksum: bool, contentChecksum: bool = false): usize {
  const bs = <usize>normalizeBlockSize(blockSize);
  let op = dst;
  let ip = src;
  const end = src + len;
  if (contentChecksum) xxhBegin(src);
  while (ip < end) {
    const n = end - ip < bs ? end - ip : bs;
    // Compressed straight into place, and only if strictly smaller than the raw block.
    let c: usize = 0;
    if (contentChecksum) {
      if (n > 1) c = lz4CompressBlockHashed(ip, n, op + 4, n - 1, XXH_STATE);
      xxhStripes(XXH_STATE, ip + n); // the rest of the block, while in cache
    } else if (n > 1) {
      c = lz4CompressBlock(ip, n, op + 4, n - 1);
    }
    let data: usize;
    if (c != 0) {
      store<u32>(op, <u32>c);
      data = c;
    } else {
      store<u32>(op, <u32>n | 0x80000000); // stored raw: compression did not help
      memory.copy(op + 4, ip, n);
      data = n;
    }
    if (blockChecksum) store<u32>(op + 4 + data, xxh32(op + 4, data, 0));
    op += 4 + data + (blockChecksum ? 4 : 0);
    ip += n;
  }
  if (contentChecksum) blocksContentChecksum = xxhEnd(src, len);
  return op - dst;
}

/** Writes the end mark and, if asked, the content checksum; returns the bytes written (4 or 8). */
export function writeTrailer(dst: usize, checksum: u32, contentChecksum: bool): usize {
  store<u32>(dst, 0);
  if (contentChecksum) {
    store<u32>(dst, checksum, 4);
    return 8;
  }
  return 4;
}

/** Upper bound of a whole frame for `len` bytes. */
export function frameBound(len: usize, blockSize: u32): usize {
  return MAX_HEADER + blocksBound(len, blockSize) + 8;
}

// ------------------------------------------------------------------------------------ decoder

// Output buffer state of one decode call (module globals: the module is single-threaded).
let outBuf: usize = 0;
let outCap: usize = 0;
let outLen: usize = 0;
let outMax: usize = 0;

/**
 * Makes room for `need` more bytes (need <= outMax - outLen), growing geometrically. Returns
 * false, allocating nothing, when memory cannot hold the larger buffer (the caller reports
 * too-large: the allocator would trap instead).
 */
function reserve(need: usize): bool {
  const want = outLen + need;
  if (want <= outCap) return true;
  let cap = outCap << 1;
  if (cap < want) cap = want;
  if (cap < 65536) cap = 65536;
  if (cap > outMax) cap = outMax;
  // A realloc may move: the old buffer stays live while the new one is allocated.
  if (!canAlloc(cap)) {
    if (cap == want || !canAlloc(want)) return false;
    cap = want; // no room to double: grow exactly
  }
  if (outBuf == 0) outBuf = heap.alloc(cap);
  else outBuf = heap.realloc(outBuf, cap);
  outCap = cap;
  return true;
}

/** Result of lz4FrameDecode: pointer in `decodedPtr`, length in `decodedLen`. */
export let decodedPtr: usize = 0;
export let decodedLen: usize = 0;

/**
 * Decodes every concatenated frame of [src, src+len). On success returns -1 and leaves the
 * output (allocated with heap.alloc; the caller frees it) in decodedPtr/decodedLen; on failure
 * frees everything and returns an ERR_* code.
 */
export function lz4FrameDecode(src: usize, len: usize, maxSize: u64): i32 {
  // One output is one heap block: a larger limit can never be reached (too-large past it).
  const cap: u64 = <u64>MAX_ALLOC;
  outMax = <usize>(maxSize < cap ? maxSize : cap);
  outBuf = 0;
  outCap = 0;
  outLen = 0;
  const err = decodeAll(src, len);
  if (err >= 0) {
    if (outBuf != 0) heap.free(outBuf);
    outBuf = 0;
    return err;
  }
  decodedPtr = outBuf;
  decodedLen = outLen;
  outBuf = 0;
  return -1;
}

function decodeAll(src: usize, len: usize): i32 {
  let ip = src;
  const iend = src + len;
  do {
    if (iend - ip < 4) return ERR_TRUNCATED; // empty input, or 1-3 stray bytes after a frame
    const magic = load<u32>(ip);
    if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
      if (iend - ip < 8) return ERR_TRUNCATED;
      const size = <usize>load<u32>(ip, 4);
      if (size > iend - ip - 8) return ERR_TRUNCATED;
      ip += 8 + size;
    } else if (magic == MAGIC) {
      const r = decodeFrame(ip + 4, iend);
      if (r < 0) return <i32>(-r - 1);
      ip = <usize>r;
    } else if (magic == LEGACY_MAGIC) {
      const r = decodeLegacy(ip + 4, iend);
      if (r < 0) return <i32>(-r - 1);
      ip = <usize>r;
    } else {
      return ERR_BAD_MAGIC;
    }
  } while (ip < iend);
  return -1;
}

/** Decodes one frame whose descriptor starts at `ip`; returns the next input position or -(err+1). */
function decodeFrame(ip: usize, iend: usize): i64 {
  if (iend - ip < 3) return -(ERR_TRUNCATED + 1);
  const flg = load<u8>(ip);
  const bd = load<u8>(ip, 1);
  if ((flg & 0xc0) != FLG_VERSION || (flg & 0x02) != 0) return -(ERR_UNSUPPORTED + 1);
  if ((bd & 0x8f) != 0) return -(ERR_UNSUPPORTED + 1);
  const bsId = <u32>(bd >> 4) & 7;
  if (bsId < 4) return -(ERR_UNSUPPORTED + 1);
  const blockMax: usize = <usize>1 << (<usize>bsId * 2 + 8);
  const hasSize = (flg & FLG_CONTENT_SIZE) != 0;
  const hasDict = (flg & FLG_DICT_ID) != 0;
  const descLen: usize = 2 + (hasSize ? 8 : 0) + (hasDict ? 4 : 0);
  if (iend - ip < descLen + 1) return -(ERR_TRUNCATED + 1);
  if (<u8>(xxh32(ip, descLen, 0) >> 8) != load<u8>(ip + descLen)) return -(ERR_CHECKSUM + 1);
  // A dictionary is something the caller would have to supply; we have none to offer.
  if (hasDict) return -(ERR_UNSUPPORTED + 1);
  let contentSize: u64 = 0;
  if (hasSize) {
    contentSize = load<u64>(ip, 2);
    if (contentSize > <u64>(outMax - outLen)) return -(ERR_TOO_LARGE + 1);
  }
  ip += descLen + 1;
  const independent = (flg & FLG_INDEPENDENT) != 0;
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) != 0;
  const frameStart = outLen;

  // Pre-size the output when the size is known, but never beyond what the remaining input
  // could possibly decode to (255:1 is LZ4's best ratio), nor beyond 64 MiB (past that the
  // buffer grows as data actually arrives), so a lying header cannot make us allocate much.
  if (hasSize && contentSize > 0) {
    let pre = <u64>(iend - ip) * 256 + 65536;
    if (pre > contentSize) pre = contentSize;
    if (pre > PRESIZE_MAX) pre = PRESIZE_MAX;
    if (!reserve(<usize>pre)) return -(ERR_TOO_LARGE + 1);
  }

  while (true) {
    if (iend - ip < 4) return -(ERR_TRUNCATED + 1);
    const word = load<u32>(ip);
    ip += 4;
    if (word == 0) break; // end mark
    const size = <usize>(word & 0x7fffffff);
    const raw = (word & 0x80000000) != 0;
    if (size > blockMax) return -(ERR_CORRUPT + 1);
    if (iend - ip < size + (blockChecksum ? 4 : 0)) return -(ERR_TRUNCATED + 1);
    if (blockChecksum && xxh32(ip, size, 0) != load<u32>(ip + size)) return -(ERR_CHECKSUM + 1);
    // How much this block may produce: the block maximum, what is left of a declared content
    // size (more is corrupt), or the caller's limit (more is too-large).
    let limit = blockMax;
    let overflowErr = ERR_CORRUPT;
    if (hasSize) {
      const left = <usize>contentSize - (outLen - frameStart);
      if (left < limit) limit = left;
    }
    const room = outMax - outLen;
    if (room < limit) {
      limit = room;
      overflowErr = ERR_TOO_LARGE;
    }
    if (raw) {
      if (size > limit) return -(overflowErr + 1);
      if (!reserve(size)) return -(ERR_TOO_LARGE + 1);
      memory.copy(outBuf + outLen, ip, size);
      outLen += size;
    } else {
      if (!reserve(limit)) return -(ERR_TOO_LARGE + 1);
      const low = independent ? outBuf + outLen : outBuf + frameStart;
      const n = lz4DecompressBlock(ip, size, outBuf + outLen, limit, low);
      if (n < 0) return -((n == LZ4_ERR_OVERFLOW ? overflowErr : ERR_CORRUPT) + 1);
      outLen += <usize>n;
    }
    ip += size + (blockChecksum ? 4 : 0);
  }

  if ((flg & FLG_CONTENT_CHECKSUM) != 0) {
    if (iend - ip < 4) return -(ERR_TRUNCATED + 1);
    const got = xxh32(outBuf + frameStart, outLen - frameStart, 0);
    if (got != load<u32>(ip)) return -(ERR_CHECKSUM + 1);
    ip += 4;
  }
  if (hasSize && <u64>(outLen - frameStart) != contentSize) return -(ERR_CORRUPT + 1);
  return <i64>ip;
}

/**
 * Decodes the blocks of a legacy frame (`lz4 -l`): each is a u32 compressed size and an
 * independent block of at most 8 MiB. The frame ends at the end of the input or where the next
 * "size" is too large for a block: that word is the magic number of the next frame (as lz4io
 * decides). Returns the next input position or -(err+1).
 */
function decodeLegacy(ip: usize, iend: usize): i64 {
  while (iend - ip >= 4) {
    const size = <usize>load<u32>(ip);
    if (size > lz4Bound(LEGACY_BLOCK)) break; // the next frame's magic number
    ip += 4;
    if (size > iend - ip) return -(ERR_TRUNCATED + 1);
    const room = outMax - outLen;
    const limit = LEGACY_BLOCK < room ? LEGACY_BLOCK : room;
    if (!reserve(limit)) return -(ERR_TOO_LARGE + 1);
    const n = lz4DecompressBlock(ip, size, outBuf + outLen, limit, outBuf + outLen);
    if (n < 0) return -((n == LZ4_ERR_OVERFLOW && room < LEGACY_BLOCK ? ERR_TOO_LARGE : ERR_CORRUPT) + 1);
    outLen += <usize>n;
    ip += size;
  }
  if (iend - ip > 0 && iend - ip < 4) return -(ERR_TRUNCATED + 1);
  return <i64>ip;
}
