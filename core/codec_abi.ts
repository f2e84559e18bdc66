// Canonical-ABI exports of interface forge:core/codec@0.1.0 (see abi.ts for conventions).
//
// Flat signatures (Canonical ABI, MAX_FLAT_RESULTS = 1):
//   list<u8>                 -> (ptr: i32, len: i32)
//   frame-options            -> (block-size: i32, content-size: i32, content-checksum: i32, block-checksum: i32)
//   u64                      -> i64
//   list<u8> result          -> i32 pointer to the return area {ptr, len}
//   result<list<u8>, codec-error> -> i32 pointer to {disc u8 @0, ptr @4, len @8 | error u8 @4}
import { canAlloc, freeArg, MAX_ALLOC, postList, postResultList, retErr, retList, retOkList } from "./abi";
import { lz4Bound, lz4CompressBlock, lz4DecompressBlock, LZ4_ERR_OVERFLOW } from "./lz4_block";
import {
  blocksBound, blocksContentChecksum, decodedLen, decodedPtr, ERR_CORRUPT, ERR_TOO_LARGE, frameBound, lz4FrameDecode,
  MAX_HEADER, writeBlocks, writeHeader, writeTrailer,
} from "./lz4_frame";

// lz4-block-compress: func(data: list<u8>) -> list<u8>
export function codec__lz4_block_compress(ptr: usize, len: usize): usize {
  const cap = lz4Bound(len) + 16;
  const out = heap.alloc(cap);
  const n = lz4CompressBlock(ptr, len, out, cap); // never 0: cap >= lz4Bound(len)
  freeArg(ptr, len);
  return retList(out, n);
}
export function post__codec__lz4_block_compress(ret: usize): void {
  heap.free(<usize>load<u32>(ret)); // never zero-sized: a block has at least its token
}

// lz4-block-decompress: func(data: list<u8>, max-size: u32) -> result<list<u8>, codec-error>
// The output starts small and is retried larger (up to max-size) when it overflows, so a
// generous max-size costs nothing up front. Past MAX_ALLOC (or when memory cannot hold the next
// try) the answer is too-large, never a trap.
export function codec__lz4_block_decompress(ptr: usize, len: usize, maxSize: u32): usize {
  const max = <usize>maxSize < MAX_ALLOC ? <usize>maxSize : MAX_ALLOC;
  let cap: usize = len * 4 + 1024;
  if (cap > max) cap = max;
  let out: usize = 0;
  let n: i64 = 0;
  while (true) {
    if (!canAlloc(cap > 0 ? cap : 1)) {
      freeArg(ptr, len);
      return retErr(ERR_TOO_LARGE);
    }
    out = heap.alloc(cap > 0 ? cap : 1);
    n = lz4DecompressBlock(ptr, len, out, cap, out);
    if (n != LZ4_ERR_OVERFLOW || cap == max) break;
    heap.free(out);
    cap = cap > (max >> 2) ? max : cap << 2;
  }
  freeArg(ptr, len);
  if (n < 0) {
    heap.free(out);
    return retErr(n == LZ4_ERR_OVERFLOW ? ERR_TOO_LARGE : ERR_CORRUPT);
  }
  if (n == 0) {
    heap.free(out);
    return retOkList(1, 0);
  }
  return retOkList(out, <usize>n);
}
export function post__codec__lz4_block_decompress(ret: usize): void {
  postResultList(ret);
}

// lz4-frame-compress: func(data: list<u8>, options: frame-options) -> list<u8>
export function codec__lz4_frame_compress(ptr: usize, len: usize, blockSize: u32, contentSize: bool, contentChecksum: bool, blockChecksum: bool): usize {
  const out = heap.alloc(frameBound(len, blockSize));
  let n = writeHeader(out, <u64>len, blockSize, contentSize, contentChecksum, blockChecksum);
  n += writeBlocks(out + n, ptr, len, blockSize, blockChecksum, contentChecksum);
  n += writeTrailer(out + n, contentChecksum ? blocksContentChecksum : 0, contentChecksum);
  freeArg(ptr, len);
  return retList(out, n);
}
export function post__codec__lz4_frame_compress(ret: usize): void {
  postList(ret);
}

// lz4-frame-decompress: func(data: list<u8>, max-size: u64) -> result<list<u8>, codec-error>
export function codec__lz4_frame_decompress(ptr: usize, len: usize, maxSize: u64): usize {
  const err = lz4FrameDecode(ptr, len, maxSize);
  freeArg(ptr, len);
  if (err >= 0) return retErr(<u32>err);
  if (decodedLen == 0) {
    if (decodedPtr != 0) heap.free(decodedPtr);
    return retOkList(1, 0);
  }
  return retOkList(decodedPtr, decodedLen);
}
export function post__codec__lz4_frame_decompress(ret: usize): void {
  postResultList(ret);
}

// lz4-frame-header: func(content-size: u64, options: frame-options) -> list<u8>
export function codec__lz4_frame_header(contentSize: u64, blockSize: u32, withSize: bool, contentChecksum: bool, blockChecksum: bool): usize {
  const out = heap.alloc(MAX_HEADER);
  const n = writeHeader(out, contentSize, blockSize, withSize, contentChecksum, blockChecksum);
  return retList(out, n);
}
export function post__codec__lz4_frame_header(ret: usize): void {
  postList(ret);
}

// lz4-frame-blocks: func(data: list<u8>, options: frame-options) -> list<u8>
export function codec__lz4_frame_blocks(ptr: usize, len: usize, blockSize: u32, withSize: bool, contentChecksum: bool, blockChecksum: bool): usize {
  if (len == 0) return retList(1, 0);
  const out = heap.alloc(blocksBound(len, blockSize));
  const n = writeBlocks(out, ptr, len, blockSize, blockChecksum);
  freeArg(ptr, len);
  return retList(out, n);
}
export function post__codec__lz4_frame_blocks(ret: usize): void {
  postList(ret);
}

// lz4-frame-trailer: func(content-checksum: u32, options: frame-options) -> list<u8>
// The caller computes the content checksum over the whole input (checksum.xxh32 with seed 0);
// it is ignored unless options.content-checksum is set.
export function codec__lz4_frame_trailer(checksum: u32, blockSize: u32, withSize: bool, contentChecksum: bool, blockChecksum: bool): usize {
  const out = heap.alloc(8);
  const n = writeTrailer(out, checksum, contentChecksum);
  return retList(out, n);
}
export function post__codec__lz4_frame_trailer(ret: usize): void {
  postList(ret);
}
