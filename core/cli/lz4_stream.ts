// LZ4 frames on stdin/stdout in bounded buffers: the encoder writes exactly the frames the core's
// lz4-frame-compress writes (independent blocks, content checksum; no content size, which a
// stream does not know in advance), the decoder reads every frame the lz4 CLI writes except the
// legacy format, block by block.
import { lz4DecompressBlock } from "../lz4_block";
import {
  ERR_BAD_MAGIC, ERR_CHECKSUM, ERR_CORRUPT, ERR_TRUNCATED, ERR_UNSUPPORTED, normalizeBlockSize, writeBlocks,
  writeHeader, writeTrailer, blocksBound, MAX_HEADER,
} from "../lz4_frame";
import { xxh32 } from "../xxh32";
import { XXH32_STATE_SIZE, xxh32Digest, xxh32Init, xxh32Update } from "../xxh32_stream";
import { readFull, readSome, writeAll } from "./wasi_io";

/** Errors besides the codec-error codes: an I/O failure (errno in ioErrno). */
export const ERR_IO: i32 = 100;
export let ioErrno: u32 = 0;

/** Compresses stdin to stdout as one frame of `blockSize` blocks; returns -1 or an error code. */
export function lz4Encode(blockSize: u32): i32 {
  const bs = <usize>normalizeBlockSize(blockSize);
  const inBuf = heap.alloc(bs);
  const outBuf = heap.alloc(blocksBound(bs, <u32>bs) + MAX_HEADER + 8);
  const st = heap.alloc(XXH32_STATE_SIZE);
  xxh32Init(st, 0);
  let n = writeHeader(outBuf, 0, <u32>bs, false, true, false);
  if (!put(outBuf, n)) return ERR_IO;
  while (true) {
    const got = readFull(0, inBuf, bs);
    if (got < 0) { ioErrno = <u32>(-got); return ERR_IO; }
    if (got == 0) break;
    xxh32Update(st, inBuf, <usize>got);
    n = writeBlocks(outBuf, inBuf, <usize>got, <u32>bs, false);
    if (!put(outBuf, n)) return ERR_IO;
    if (<usize>got < bs) break;
  }
  n = writeTrailer(outBuf, xxh32Digest(st), true);
  if (!put(outBuf, n)) return ERR_IO;
  return -1;
}

function put(p: usize, n: usize): bool {
  const err = writeAll(1, p, n);
  if (err != 0) ioErrno = err;
  return err == 0;
}

// ------------------------------------------------------------------------------ decoder

const MAGIC: u32 = 0x184d2204;
const LEGACY_MAGIC: u32 = 0x184c2102;
const SKIPPABLE_MASK: u32 = 0xfffffff0;
const SKIPPABLE_MAGIC: u32 = 0x184d2a50;
const HISTORY: usize = 65536;
const MAX_BLOCK: usize = 4 << 20;
const IN_CAP: usize = MAX_BLOCK + 64;

let inBuf: usize = 0;
let ip: usize = 0; // next unread byte
let iend: usize = 0; // end of buffered input
let eof = false;

/** Makes `n` (<= IN_CAP) bytes available at ip; false at end of input (or an I/O error). */
function ensure(n: usize): bool {
  if (iend - ip >= n) return true;
  const have = iend - ip;
  memory.copy(inBuf, ip, have);
  ip = inBuf;
  iend = inBuf + have;
  while (!eof && iend - ip < n) {
    const got = readSome(0, iend, inBuf + IN_CAP - iend);
    if (got < 0) { ioErrno = <u32>(-got); eof = true; return false; }
    if (got == 0) eof = true;
    iend += <usize>got;
  }
  return iend - ip >= n;
}

/** Skips `n` bytes of input (may exceed the buffer). */
function skip(n: u64): bool {
  while (n > 0) {
    if (iend == ip && !ensure(1)) return false;
    const have = <u64>(iend - ip);
    const k = have < n ? have : n;
    ip += <usize>k;
    n -= k;
  }
  return true;
}

/** Decodes every frame on stdin to stdout; returns -1 or an error code. */
export function lz4Decode(): i32 {
  inBuf = heap.alloc(IN_CAP);
  ip = inBuf;
  iend = inBuf;
  const out = heap.alloc(HISTORY + MAX_BLOCK);
  const st = heap.alloc(XXH32_STATE_SIZE);
  let frames = 0;
  while (true) {
    if (!ensure(4)) {
      if (ioErrno != 0) return ERR_IO;
      if (iend == ip && frames > 0) return -1;
      return ERR_TRUNCATED; // empty input, or 1-3 stray bytes
    }
    const magic = load<u32>(ip);
    if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
      if (!ensure(8)) return ERR_TRUNCATED;
      const size = load<u32>(ip, 4);
      ip += 8;
      if (!skip(<u64>size)) return ERR_TRUNCATED;
    } else if (magic == MAGIC) {
      ip += 4;
      const r = decodeFrame(out, st);
      if (r >= 0) return r;
    } else if (magic == LEGACY_MAGIC) {
      return ERR_UNSUPPORTED; // the legacy format (lz4 -l): decode it with the library
    } else {
      return ERR_BAD_MAGIC;
    }
    frames++;
  }
}

function decodeFrame(out: usize, st: usize): i32 {
  if (!ensure(3)) return ERR_TRUNCATED;
  const flg = load<u8>(ip);
  const bd = load<u8>(ip, 1);
  if ((flg & 0xc0) != 0x40 || (flg & 0x02) != 0 || (bd & 0x8f) != 0) return ERR_UNSUPPORTED;
  const bsId = <u32>(bd >> 4) & 7;
  if (bsId < 4) return ERR_UNSUPPORTED;
  const blockMax: usize = <usize>1 << (<usize>bsId * 2 + 8);
  const hasSize = (flg & 0x08) != 0;
  const hasDict = (flg & 0x01) != 0;
  const descLen: usize = 2 + (hasSize ? 8 : 0) + (hasDict ? 4 : 0);
  if (!ensure(descLen + 1)) return ERR_TRUNCATED;
  if (<u8>(xxh32(ip, descLen, 0) >> 8) != load<u8>(ip + descLen)) return ERR_CHECKSUM;
  if (hasDict) return ERR_UNSUPPORTED;
  const contentSize: u64 = hasSize ? load<u64>(ip, 2) : 0;
  ip += descLen + 1;
  const independent = (flg & 0x20) != 0;
  const blockChecksum = (flg & 0x10) != 0;
  const contentChecksum = (flg & 0x04) != 0;
  xxh32Init(st, 0);
  let total: u64 = 0;
  let hist: usize = 0;
  while (true) {
    if (!ensure(4)) return ERR_TRUNCATED;
    const word = load<u32>(ip);
    ip += 4;
    if (word == 0) break;
    const size = <usize>(word & 0x7fffffff);
    if (size > blockMax) return ERR_CORRUPT;
    const extra: usize = blockChecksum ? 4 : 0;
    if (!ensure(size + extra)) return ERR_TRUNCATED;
    if (blockChecksum && xxh32(ip, size, 0) != load<u32>(ip + size)) return ERR_CHECKSUM;
    const dst = out + hist;
    let n: usize;
    if ((word & 0x80000000) != 0) {
      memory.copy(dst, ip, size);
      n = size;
    } else {
      const r = lz4DecompressBlock(ip, size, dst, blockMax, independent ? dst : out);
      if (r < 0) return ERR_CORRUPT;
      n = <usize>r;
    }
    ip += size + extra;
    total += <u64>n;
    if (hasSize && total > contentSize) return ERR_CORRUPT;
    if (contentChecksum) xxh32Update(st, dst, n);
    const err = writeAll(1, dst, n);
    if (err != 0) { ioErrno = err; return ERR_IO; }
    if (!independent) {
      // Keep the last 64 KiB decoded: the next block may refer back into it.
      const keep = hist + n < HISTORY ? hist + n : HISTORY;
      memory.copy(out, dst + n - keep, keep);
      hist = keep;
    }
  }
  if (contentChecksum) {
    if (!ensure(4)) return ERR_TRUNCATED;
    if (xxh32Digest(st) != load<u32>(ip)) return ERR_CHECKSUM;
    ip += 4;
  }
  if (hasSize && total != contentSize) return ERR_CORRUPT;
  return -1;
}
