// SHA-256 of many inputs in one call. The inputs are a Canonical-ABI list<list<u8>>: `count`
// descriptors of (ptr: u32, len: u32) at `descs`.
//
// The scalar module (build/forge-core.wasm) hashes one input after the other: it must run in
// every engine, and Debian 12's wabt 1.0.32 `wasm2c` rejects any SIMD instruction. The SIMD module
// (build/forge-core-simd.wasm, built from these same sources with ASC_FEATURE_SIMD) hashes four
// inputs at once in the lanes of i32x4 (sha256_x4.ts).
import { sha256Blocks, sha256Digest } from "./sha256";
import { SHA256X4_STATE_SIZE, sha256x4Blocks, sha256x4Init } from "./sha256_x4";

/** Writes the 32-byte digest of input i to `out + 32 * i`. */
export function sha256BatchDigest(descs: usize, count: usize, out: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (count >= 2) {
      batchX4(descs, count, out);
      return;
    }
  }
  for (let i: usize = 0; i < count; i++) {
    const d = descs + (i << 3);
    sha256Digest(<usize>load<u32>(d), <usize>load<u32>(d, 4), out + (i << 5));
  }
}

// ---- SIMD path (compiled only when ASC_FEATURE_SIMD) ----

// The static areas are functions, not module constants, so that the scalar build lays out none of
// them (a constant's memory.data is allocated in every build). Binaryen folds each call away.
/** The 4-lane chaining value. */
function x4State(): usize {
  return memory.data(<i32>SHA256X4_STATE_SIZE, 16);
}
/** The padded last block(s) of each lane: 4 × 128 bytes. */
function tailArea(): usize {
  return memory.data(4 * 128, 16);
}
/** One lane's chaining value, when it finishes alone on the scalar compressor. */
function laneState(): usize {
  return memory.data(32, 16);
}
/** Blocks per compressor call (V8 optimizes a function for its NEXT call; see sha256.ts). */
const CHUNK_BLOCKS: usize = 4096;

@inline function bswap32(x: u32): u32 {
  return (rotl<u32>(x, 8) & 0x00ff00ff) | (rotr<u32>(x, 8) & 0xff00ff00);
}
@inline function lenOf(descs: usize, i: u32): u32 {
  return load<u32>(descs + (<usize>i << 3), 4);
}

/**
 * Hashes the inputs four at a time. Inputs are grouped by length (a sort of their indices), so
 * the lanes of a group have about as many blocks; a lane that has more blocks than the others
 * finishes on the scalar compressor from its lane's chaining value.
 */
function batchX4(descs: usize, count: usize, out: usize): void {
  const order = heap.alloc(count << 2);
  let equal = true;
  const len0 = lenOf(descs, 0);
  for (let i: usize = 0; i < count; i++) {
    store<u32>(order + (i << 2), <u32>i);
    if (lenOf(descs, <u32>i) != len0) equal = false;
  }
  if (!equal) sortByLength(order, descs, count);
  let i: usize = 0;
  while (count - i >= 2) {
    // A short last group (2 or 3 inputs) repeats its last input: one 4-lane pass costs less than
    // two or three scalar ones.
    const n = min<usize>(4, count - i);
    const at = order + (i << 2);
    hash4(descs, out,
      load<u32>(at), load<u32>(at + 4),
      load<u32>(at + (min<usize>(2, n - 1) << 2)), load<u32>(at + (min<usize>(3, n - 1) << 2)));
    i += n;
  }
  if (i < count) {
    const k = <usize>load<u32>(order + (i << 2));
    const d = descs + (k << 3);
    sha256Digest(<usize>load<u32>(d), <usize>load<u32>(d, 4), out + (k << 5));
  }
  heap.free(order);
}

/** Shell sort of the u32 indices at `order` by input length (ascending). */
function sortByLength(order: usize, descs: usize, count: usize): void {
  let gap: usize = 1;
  while (gap < count / 3) gap = gap * 3 + 1;
  for (; gap >= 1; gap /= 3) {
    for (let i = gap; i < count; i++) {
      const v = load<u32>(order + (i << 2));
      const key = lenOf(descs, v);
      let j = i;
      while (j >= gap) {
        const u = load<u32>(order + ((j - gap) << 2));
        if (lenOf(descs, u) <= key) break;
        store<u32>(order + (j << 2), u);
        j -= gap;
      }
      store<u32>(order + (j << 2), v);
    }
  }
}

/** Block `b` of lane `k`: from the input while it has full blocks, then from the lane's tail. */
@inline function blockPtr(ptr: usize, full: usize, k: usize, b: usize): usize {
  return b < full ? ptr + (b << 6) : tailArea() + (k << 7) + ((b - full) << 6);
}

/** Digests of inputs i0..i3 (repeats allowed) into `out + 32 * i`. */
function hash4(descs: usize, out: usize, i0: u32, i1: u32, i2: u32, i3: u32): void {
  const p0 = <usize>load<u32>(descs + (<usize>i0 << 3)), p1 = <usize>load<u32>(descs + (<usize>i1 << 3));
  const p2 = <usize>load<u32>(descs + (<usize>i2 << 3)), p3 = <usize>load<u32>(descs + (<usize>i3 << 3));
  const f0 = <usize>lenOf(descs, i0) >> 6, f1 = <usize>lenOf(descs, i1) >> 6;
  const f2 = <usize>lenOf(descs, i2) >> 6, f3 = <usize>lenOf(descs, i3) >> 6;
  const t0 = f0 + padTail(p0, lenOf(descs, i0), 0), t1 = f1 + padTail(p1, lenOf(descs, i1), 1);
  const t2 = f2 + padTail(p2, lenOf(descs, i2), 2), t3 = f3 + padTail(p3, lenOf(descs, i3), 3);
  const common = min<usize>(min<usize>(t0, t1), min<usize>(t2, t3));
  const X4 = x4State();
  sha256x4Init(X4);
  let b: usize = 0;
  while (b < common) {
    // The longest run from block b in which every lane reads consecutive blocks.
    let run = min<usize>(common - b, CHUNK_BLOCKS);
    if (b < f0) run = min<usize>(run, f0 - b);
    if (b < f1) run = min<usize>(run, f1 - b);
    if (b < f2) run = min<usize>(run, f2 - b);
    if (b < f3) run = min<usize>(run, f3 - b);
    sha256x4Blocks(X4, blockPtr(p0, f0, 0, b), blockPtr(p1, f1, 1, b), blockPtr(p2, f2, 2, b), blockPtr(p3, f3, 3, b), run);
    b += run;
  }
  finishLane(0, p0, f0, t0, common, out + (<usize>i0 << 5));
  finishLane(1, p1, f1, t1, common, out + (<usize>i1 << 5));
  finishLane(2, p2, f2, t2, common, out + (<usize>i2 << 5));
  finishLane(3, p3, f3, t3, common, out + (<usize>i3 << 5));
}

/** Writes lane k's padded tail (the last len % 64 bytes, 0x80, zeros, bit length); returns its block count. */
function padTail(ptr: usize, len: u32, k: usize): usize {
  const tail = tailArea() + (k << 7);
  const rem = <usize>(len & 63);
  memory.copy(tail, ptr + (<usize>len - rem), rem);
  store<u8>(tail + rem, 0x80);
  const blocks: usize = rem < 56 ? 1 : 2;
  const end = tail + (blocks << 6);
  memory.fill(tail + rem + 1, 0, end - 8 - (tail + rem + 1));
  const bits = <u64>len << 3;
  store<u32>(end - 8, bswap32(<u32>(bits >>> 32)));
  store<u32>(end - 4, bswap32(<u32>bits));
  return blocks;
}

/** Lane k's remaining blocks (from `from` to `total`) on the scalar compressor, then its digest. */
function finishLane(k: usize, ptr: usize, full: usize, total: usize, from: usize, out: usize): void {
  const X4 = x4State(), LANE_H = laneState();
  const h = X4 + (k << 2);
  if (from < total) {
    for (let j: usize = 0; j < 8; j++) store<u32>(LANE_H + (j << 2), load<u32>(X4 + (j << 4) + (k << 2)));
    let b = from;
    while (b < full) {
      const n = min<usize>(full - b, CHUNK_BLOCKS);
      sha256Blocks(LANE_H, ptr + (b << 6), n);
      b += n;
    }
    sha256Blocks(LANE_H, tailArea() + (k << 7) + ((b - full) << 6), total - b);
    for (let j: usize = 0; j < 8; j++) store<u32>(out + (j << 2), bswap32(load<u32>(LANE_H + (j << 2))));
    return;
  }
  for (let j: usize = 0; j < 8; j++) store<u32>(out + (j << 2), bswap32(load<u32>(h + (j << 4))));
}
