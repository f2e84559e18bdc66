// Canonical-ABI exports of interface forge:core/events@0.1.0 (see abi.ts for conventions).
//
// record change { path: string, kind: change-kind, old-path: option<string> } lowers to 24
// bytes, align 4: path {ptr @0, len @4}, kind u8 @8, option discriminant u8 @12, old-path
// {ptr @16, len @20}. A returned list<change> is ONE block (records, then string bytes), so
// the post-return frees just that block.
import { freeArg, handleGet, handleNew, handleRelease, retList } from "./abi";
import { CHANGE_SIZE, coalescerApply, coalescerCreate, coalescerDestroy, coalescerTake, takenCount, takenPtr } from "./coalescer";

/** Live coalescers (handle table, see abi.ts). */
const COALESCERS: usize = memory.data(8, 4);

function live(h: u32): usize {
  const c = handleGet(COALESCERS, h);
  if (c == 0) unreachable(); // not a live coalescer: the WIT has no error case for this
  return c;
}

// coalescer-new: func(window-ms: u32) -> coalescer
export function events__coalescer_new(windowMs: u32): u32 {
  return handleNew(COALESCERS, coalescerCreate(windowMs));
}

// coalescer-push: func(c: coalescer, changes: list<change>, now-ms: u64)
//   flat: (c: i32, ptr: i32, len: i32, now: i64)
export function events__coalescer_push(h: u32, ptr: usize, len: usize, nowMs: u64): void {
  const c = live(h);
  for (let i: usize = 0; i < len; i++) {
    const r = ptr + i * CHANGE_SIZE;
    const p = <usize>load<u32>(r, 0);
    const n = <usize>load<u32>(r, 4);
    const hasOld = load<u8>(r, 12) != 0;
    const op = hasOld ? <usize>load<u32>(r, 16) : 0;
    const on = hasOld ? <usize>load<u32>(r, 20) : 0;
    coalescerApply(c, load<u8>(r, 8), p, n, hasOld, op, on, nowMs);
    freeArg(p, n);
    if (hasOld) freeArg(op, on);
  }
  freeArg(ptr, len * CHANGE_SIZE);
}

// coalescer-drain: func(c: coalescer, now-ms: u64) -> list<change>
export function events__coalescer_drain(h: u32, nowMs: u64): usize {
  coalescerTake(live(h), nowMs, false);
  return retList(takenPtr, takenCount);
}
export function post__events__coalescer_drain(ret: usize): void {
  if (load<u32>(ret, 4) != 0) heap.free(<usize>load<u32>(ret));
}

// coalescer-flush: func(c: coalescer) -> list<change>
export function events__coalescer_flush(h: u32): usize {
  coalescerTake(live(h), 0, true);
  return retList(takenPtr, takenCount);
}
export function post__events__coalescer_flush(ret: usize): void {
  if (load<u32>(ret, 4) != 0) heap.free(<usize>load<u32>(ret));
}

// coalescer-free: func(c: coalescer)
export function events__coalescer_free(h: u32): void {
  const c = handleRelease(COALESCERS, h);
  if (c != 0) coalescerDestroy(c); // freeing twice is harmless
}
