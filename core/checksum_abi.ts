// Canonical-ABI exports of interface forge:core/checksum@0.1.0 (see abi.ts for conventions).
import {
  allocResult, freeArg, freeListOfLists, handleGet, handleNew, handleRelease, postList, retList,
} from "./abi";
import { SHA256_STATE_SIZE, sha256Digest, sha256Final, sha256Init, sha256Update } from "./sha256";
import { sha256BatchDigest } from "./sha256_batch";
import { xxh32 } from "./xxh32";

/** Live streaming states (handle table, see abi.ts). */
const STREAMS: usize = memory.data(8, 4);

// sha256: func(data: list<u8>) -> list<u8>
export function checksum__sha256(ptr: usize, len: usize): usize {
  const out = heap.alloc(32);
  sha256Digest(ptr, len, out);
  freeArg(ptr, len);
  return retList(out, 32);
}
export function post__checksum__sha256(ret: usize): void {
  postList(ret);
}

// sha256-batch: func(inputs: list<list<u8>>) -> list<list<u8>>
// The result is ONE block: `count` descriptors followed by `count` digests, so the post-return
// frees just that block.
export function checksum__sha256_batch(ptr: usize, count: usize): usize {
  const block = allocResult(count * 40);
  const digests = block + (count << 3);
  sha256BatchDigest(ptr, count, digests);
  for (let i: usize = 0; i < count; i++) {
    store<u32>(block + (i << 3), <u32>(digests + (i << 5)));
    store<u32>(block + (i << 3), 32, 4);
  }
  freeListOfLists(ptr, count);
  return retList(block, count);
}
export function post__checksum__sha256_batch(ret: usize): void {
  if (load<u32>(ret, 4) != 0) heap.free(<usize>load<u32>(ret));
}

// sha256-stream-new: func() -> sha256-stream
export function checksum__sha256_stream_new(): u32 {
  const st = heap.alloc(SHA256_STATE_SIZE);
  sha256Init(st);
  return handleNew(STREAMS, st);
}

// sha256-stream-update: func(s: sha256-stream, data: list<u8>)
export function checksum__sha256_stream_update(s: u32, ptr: usize, len: usize): void {
  const st = handleGet(STREAMS, s);
  if (st == 0) unreachable(); // not a live stream: the WIT has no error case for this
  sha256Update(st, ptr, len);
  freeArg(ptr, len);
}

// sha256-stream-finish: func(s: sha256-stream) -> list<u8>
export function checksum__sha256_stream_finish(s: u32): usize {
  const st = handleRelease(STREAMS, s);
  if (st == 0) unreachable();
  const out = heap.alloc(32);
  sha256Final(st, out);
  heap.free(st);
  return retList(out, 32);
}
export function post__checksum__sha256_stream_finish(ret: usize): void {
  postList(ret);
}

// xxh32: func(data: list<u8>, seed: u32) -> u32
export function checksum__xxh32(ptr: usize, len: usize, seed: u32): u32 {
  const h = xxh32(ptr, len, seed);
  freeArg(ptr, len);
  return h;
}
