// Canonical-ABI glue shared by every interface of world `core` (wit/forge.wit).
//
// Conventions (every *_abi.ts file follows them):
// - An AssemblyScript export `iface__fn_name` is renamed by scripts/cabi-transform.mjs to
//   `forge:core/iface@0.1.0#fn-name`; `post__iface__fn_name` becomes
//   `cabi_post_forge:core/iface@0.1.0#fn-name`.
// - Only unmanaged memory is used (heap.alloc/heap.free; --runtime minimal never collects), so
//   nothing the host wrote can move or vanish between cabi_realloc and the export call. Never
//   allocate managed objects (String, Array, `new` of a class) on a call path: they would leak.
// - Lowered arguments belong to the callee: free them with `freeArg`/`freeArgs` once consumed.
//   `freeArg` ignores zero-sized lists (cabi_realloc hands out a dangling pointer for those) and
//   the host's scratch region (see `forge_scratch`), so the direct loader can reuse one buffer.
// - Results wider than one flat value go through the static return area `RET_AREA`; the
//   matching `post__…` export frees what the result points to. The host always calls it before
//   its next call, so one static area is enough (the module is single-threaded).

/** Static return area: 64 bytes, 8-aligned (a result<list<_>, enum> needs 12). */
export const RET_AREA: usize = memory.data(64, 8);

// ------------------------------------------------------------------ allocator

/** Canonical-ABI allocator (TLSF blocks are 16-aligned, enough for every WIT type). */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) {
    // Zero-sized: a dangling, aligned pointer that is never freed.
    if (oldPtr != 0 && oldSize != 0) freeArg(oldPtr, oldSize);
    return align;
  }
  if (oldPtr == 0 || oldSize == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

// ------------------------------------------------------------ scratch region
// One persistent buffer the direct loader (host/node/core/loader.ts) writes arguments into, so a
// small call costs no allocation. Canonical callers (jco) never see it. It is not a WIT
// function, so it keeps a name without `__` and the transform leaves it alone.

let scratchBase: usize = 0;
let scratchCap: usize = 0;

/**
 * Returns a scratch region of at least `size` bytes (16-aligned). The previous region is
 * released, so the host must re-read the pointer after every call to this export.
 */
export function forge_scratch(size: usize): usize {
  if (size <= scratchCap && scratchBase != 0) return scratchBase;
  if (scratchBase != 0) heap.free(scratchBase);
  // Grow geometrically so a sequence of growing inputs does not reallocate every time.
  let cap: usize = scratchCap << 1;
  if (cap < size) cap = size;
  if (cap < 4096) cap = 4096;
  scratchBase = heap.alloc(cap);
  scratchCap = cap;
  return scratchBase;
}

@inline function inScratch(ptr: usize): bool {
  return ptr - scratchBase < scratchCap; // unsigned: also false when ptr < scratchBase
}

/** Frees a lowered argument of `size` bytes unless it is zero-sized or in the scratch region. */
export function freeArg(ptr: usize, size: usize): void {
  if (size == 0 || inScratch(ptr)) return;
  heap.free(ptr);
}

/** Frees a lowered `list<list<u8>>` / `list<string>`: every element, then the outer list. */
export function freeListOfLists(ptr: usize, count: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const e = ptr + (i << 3);
    freeArg(<usize>load<u32>(e), <usize>load<u32>(e, 4));
  }
  freeArg(ptr, count << 3);
}

// ------------------------------------------------------------------- limits

/**
 * Largest block the allocator hands out (TLSF's BLOCK_MAXSIZE is 1 GiB minus its 4-byte header;
 * a little margin below it). Every output buffer is one block, so no single result can be larger.
 */
export const MAX_ALLOC: usize = (1 << 30) - 64;

/** Pages of a 32-bit linear memory (4 GiB): no engine can grow past it. */
const MAX_PAGES: usize = 65536;

/**
 * Whether `heap.alloc(size)` (or a realloc to `size`) can succeed. The allocator traps when a
 * block is too large or memory cannot grow, so every size that depends on the input is checked
 * here first and turned into an error instead. Conservative: it assumes the block comes from new
 * pages, so it may refuse when free blocks inside the heap would have served (only when memory
 * is already within `size` of 4 GiB).
 */
export function canAlloc(size: usize): bool {
  if (size > MAX_ALLOC) return false;
  // + 2 pages: block headers, the allocator's rounding and the tail block.
  const pages = (size + 0xffff) >> 16;
  return <usize>memory.size() + pages + 2 <= MAX_PAGES;
}

// ------------------------------------------------------------------- results

/**
 * Allocates `size` bytes for a result. Zero-sized results get the dangling pointer 8, aligned
 * for every element type (jco rejects e.g. an empty list<u32> at an address not 4-aligned).
 */
export function allocResult(size: usize): usize {
  return size == 0 ? 8 : heap.alloc(size);
}

/** Returns a `list<u8>`/`list<u32>`/`string` (pointer + element count) via the return area. */
export function retList(ptr: usize, count: usize): usize {
  store<u32>(RET_AREA, <u32>ptr);
  store<u32>(RET_AREA, <u32>count, 4);
  return RET_AREA;
}

/** Returns `result<list<T>, E>` as ok(list): discriminant 0 at +0, the list at +4/+8. */
export function retOkList(ptr: usize, count: usize): usize {
  store<u8>(RET_AREA, 0);
  store<u32>(RET_AREA, <u32>ptr, 4);
  store<u32>(RET_AREA, <u32>count, 8);
  return RET_AREA;
}

/** Returns `result<_, E>` as err(code) for an enum E: discriminant 1 at +0, the case at +4. */
export function retErr(code: u32): usize {
  store<u8>(RET_AREA, 1);
  store<u8>(RET_AREA, <u8>code, 4);
  return RET_AREA;
}

// --------------------------------------------------------- post-return frees

/** Post-return for a returned `list<u8>`/`list<u32>`/`string`. */
export function postList(ret: usize): void {
  const len = load<u32>(ret, 4);
  if (len != 0) heap.free(<usize>load<u32>(ret));
}

/** Post-return for a returned `result<list<T>, enum>`. */
export function postResultList(ret: usize): void {
  if (load<u8>(ret) == 0 && load<u32>(ret, 8) != 0) heap.free(<usize>load<u32>(ret, 4));
}

/** Post-return for a returned `list<list<u8>>`/`list<string>`. */
export function postListOfLists(ret: usize): void {
  const ptr = <usize>load<u32>(ret);
  const count = <usize>load<u32>(ret, 4);
  for (let i: usize = 0; i < count; i++) {
    const e = ptr + (i << 3);
    if (load<u32>(e, 4) != 0) heap.free(<usize>load<u32>(e));
  }
  if (count != 0) heap.free(ptr);
}

// ------------------------------------------------------------------- handles
// WIT resources are avoided (they would make the module import resource intrinsics), so
// streams and coalescers are u32 handles: index + 1 into a growable table of pointers.
// A table is 8 bytes of static memory: +0 slots pointer, +4 capacity. Usage:
//   const STREAMS: usize = memory.data(8, 4);
//   const h = handleNew(STREAMS, ptr); … handleGet(STREAMS, h) … handleRelease(STREAMS, h);
// Handle 0 is never issued, so the host can use it as "none".

/** Stores `value` (non-zero) in a free slot and returns its handle (>= 1). */
export function handleNew(tbl: usize, value: usize): u32 {
  let slots = <usize>load<u32>(tbl);
  const cap = <usize>load<u32>(tbl, 4);
  for (let i: usize = 0; i < cap; i++) {
    if (load<u32>(slots + (i << 2)) == 0) {
      store<u32>(slots + (i << 2), <u32>value);
      return <u32>i + 1;
    }
  }
  const newCap: usize = cap == 0 ? 8 : cap << 1;
  slots = cap == 0 ? heap.alloc(newCap << 2) : heap.realloc(slots, newCap << 2);
  memory.fill(slots + (cap << 2), 0, (newCap - cap) << 2);
  store<u32>(tbl, <u32>slots);
  store<u32>(tbl, <u32>newCap, 4);
  store<u32>(slots + (cap << 2), <u32>value);
  return <u32>cap + 1;
}

/** The value behind handle `h`, or 0 when `h` is not live. */
export function handleGet(tbl: usize, h: u32): usize {
  const i = <usize>h - 1;
  if (i >= <usize>load<u32>(tbl, 4)) return 0; // also catches h == 0 (wraps)
  return <usize>load<u32>(<usize>load<u32>(tbl) + (i << 2));
}

/** Frees handle `h` and returns its value (0 when `h` was not live). */
export function handleRelease(tbl: usize, h: u32): usize {
  const v = handleGet(tbl, h);
  if (v != 0) store<u32>(<usize>load<u32>(tbl) + ((<usize>h - 1) << 2), 0);
  return v;
}
