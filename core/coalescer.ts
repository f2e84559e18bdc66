// Event coalescer: merges file-system changes per path within a time window (design: Watcher,
// Property 6 "at most one change per path per window").
//
// Model. Each pending path has an entry whose window opens at its first change (`first`) and
// closes at first + window. The entry tracks state, not history:
//   before: did the path exist before the window? 0 no (first change: created), 1 yes (first
//           change: modified/removed), 2 unknown (first change: the target of a rename)
//   now:    does it exist now?
//   from:   set when its current content arrived by a rename from `from` (a rename pair)
// and is reported as (first match wins):
//   overflow entry      -> overflow (never merged: passes through in order)
//   from set            -> renamed(old-path = from)
//   before 0            -> created if now, else nothing      (created+modified -> created,
//                                                             created+removed -> nothing)
//   before 1 or 2       -> modified if now, else removed     (N x modified -> modified,
//                                                             removed+created -> modified)
// Renames:
//   - renamed(O->P) where O was created in this window: no pair; O vanishes, P is new content
//     (reported as modified: P may have existed, e.g. an editor's atomic save tmp->file).
//   - otherwise P gets from = O, and O's own pending entry is folded into the pair (its
//     removal is what the pair says). A chain A->B->C collapses to renamed(A->C); B is reported
//     removed only if we saw it exist before the window (a modified/removed change for it).
//   - a pair is broken when P is removed or renamed over: then O is reported removed (or
//     modified if it was re-created meanwhile) and P by its own state.
// Output order: stable by first-seen (entry creation order). Drained entries are freed; a
// later change to the same path opens a new window.
//
// Memory: everything is unmanaged (heap.alloc); a coalescer owns copies of its paths.

// WIT enum change-kind.
export const KIND_CREATED: u8 = 0;
export const KIND_MODIFIED: u8 = 1;
export const KIND_REMOVED: u8 = 2;
export const KIND_RENAMED: u8 = 3;
export const KIND_OVERFLOW: u8 = 4;

// Coalescer layout.
const C_WINDOW = 0; // u64
const C_LIST = 8; // u32 pointer to u32 entry pointers, in first-seen order
const C_COUNT = 12;
const C_CAP = 16;
const C_MAP = 20; // u32 pointer to open-addressing slots (0 empty, 1 deleted, else entry)
const C_MAPCAP = 24; // power of two
const C_MAPUSED = 28; // live + deleted slots
const C_SIZE: usize = 32;

// Entry layout.
const E_PATH = 0;
const E_PATHLEN = 4;
const E_FROM = 8;
const E_FROMLEN = 12;
const E_FIRST = 16; // u64
const E_HASH = 24;
const E_BEFORE = 28;
const E_NOW = 29;
const E_HASFROM = 30;
const E_FLAGS = 31; // bit 0 dead, bit 1 overflow
const E_SIZE: usize = 32;
const F_DEAD: u8 = 1;
const F_OVERFLOW: u8 = 2;

/** Size of one lowered `change` record: path 8, kind 1 (+3), option<string> 12. */
export const CHANGE_SIZE: usize = 24;

// ------------------------------------------------------------------------------ helpers

function copyBytes(p: usize, n: usize): usize {
  if (n == 0) return 0;
  const q = heap.alloc(n);
  memory.copy(q, p, n);
  return q;
}

function fnv1a(p: usize, n: usize): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: usize = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 0x01000193;
  return h;
}

// @ts-ignore: decorator
@inline function bytesEqual(a: usize, an: usize, b: usize, bn: usize): bool {
  return an == bn && (an == 0 || memory.compare(a, b, an) == 0);
}

function freeEntry(e: usize): void {
  if (load<u32>(e, E_PATHLEN) != 0) heap.free(<usize>load<u32>(e, E_PATH));
  if (load<u8>(e, E_HASFROM) != 0 && load<u32>(e, E_FROMLEN) != 0) heap.free(<usize>load<u32>(e, E_FROM));
  heap.free(e);
}

// --------------------------------------------------------------------------- path map

function mapInsertRaw(map: usize, mask: usize, e: usize): void {
  let i = <usize>load<u32>(e, E_HASH) & mask;
  while (load<u32>(map + (i << 2)) > 1) i = (i + 1) & mask;
  store<u32>(map + (i << 2), <u32>e);
}

/** Rebuilds the map from the live, non-overflow entries of the list (drops deleted slots). */
function mapRebuild(c: usize, minCap: usize): void {
  let cap: usize = 16;
  while (cap < minCap * 2 + 2) cap <<= 1;
  const old = <usize>load<u32>(c, C_MAP);
  if (old != 0) heap.free(old);
  const map = heap.alloc(cap << 2);
  memory.fill(map, 0, cap << 2);
  const list = <usize>load<u32>(c, C_LIST);
  const count = <usize>load<u32>(c, C_COUNT);
  let used: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    const e = <usize>load<u32>(list + (i << 2));
    if ((load<u8>(e, E_FLAGS) & (F_DEAD | F_OVERFLOW)) != 0) continue;
    mapInsertRaw(map, cap - 1, e);
    used++;
  }
  store<u32>(c, <u32>map, C_MAP);
  store<u32>(c, <u32>cap, C_MAPCAP);
  store<u32>(c, <u32>used, C_MAPUSED);
}

/** The slot index of `path` in the map, or -1. */
function mapFindSlot(c: usize, p: usize, n: usize, h: u32): isize {
  const map = <usize>load<u32>(c, C_MAP);
  const mask = <usize>load<u32>(c, C_MAPCAP) - 1;
  let i = <usize>h & mask;
  while (true) {
    const v = <usize>load<u32>(map + (i << 2));
    if (v == 0) return -1;
    if (v != 1 && load<u32>(v, E_HASH) == h &&
        bytesEqual(<usize>load<u32>(v, E_PATH), <usize>load<u32>(v, E_PATHLEN), p, n)) return <isize>i;
    i = (i + 1) & mask;
  }
}

function find(c: usize, p: usize, n: usize): usize {
  const s = mapFindSlot(c, p, n, fnv1a(p, n));
  return s < 0 ? 0 : <usize>load<u32>(<usize>load<u32>(c, C_MAP) + (<usize>s << 2));
}

function listAppend(c: usize, e: usize): void {
  let list = <usize>load<u32>(c, C_LIST);
  const count = <usize>load<u32>(c, C_COUNT);
  const cap = <usize>load<u32>(c, C_CAP);
  if (count == cap) {
    const ncap: usize = cap == 0 ? 16 : cap << 1;
    list = cap == 0 ? heap.alloc(ncap << 2) : heap.realloc(list, ncap << 2);
    store<u32>(c, <u32>list, C_LIST);
    store<u32>(c, <u32>ncap, C_CAP);
  }
  store<u32>(list + (count << 2), <u32>e);
  store<u32>(c, <u32>(count + 1), C_COUNT);
}

function newEntry(c: usize, p: usize, n: usize, t: u64, before: u8, overflow: bool): usize {
  const e = heap.alloc(E_SIZE);
  memory.fill(e, 0, E_SIZE);
  store<u32>(e, <u32>copyBytes(p, n), E_PATH);
  store<u32>(e, <u32>n, E_PATHLEN);
  store<u64>(e, t, E_FIRST);
  store<u8>(e, before, E_BEFORE);
  store<u8>(e, overflow ? F_OVERFLOW : 0, E_FLAGS);
  listAppend(c, e);
  if (!overflow) {
    const h = fnv1a(p, n);
    store<u32>(e, h, E_HASH);
    let used = <usize>load<u32>(c, C_MAPUSED) + 1;
    if (used * 2 > <usize>load<u32>(c, C_MAPCAP)) {
      mapRebuild(c, <usize>load<u32>(c, C_COUNT)); // the new entry is in the list already
    } else {
      mapInsertRaw(<usize>load<u32>(c, C_MAP), <usize>load<u32>(c, C_MAPCAP) - 1, e);
      store<u32>(c, <u32>used, C_MAPUSED);
    }
  }
  return e;
}

function getOrNew(c: usize, p: usize, n: usize, t: u64, before: u8): usize {
  const e = find(c, p, n);
  return e != 0 ? e : newEntry(c, p, n, t, before, false);
}

/** Marks an entry dead and takes it out of the map (the list drops it at the next drain). */
function kill(c: usize, e: usize): void {
  const s = mapFindSlot(c, <usize>load<u32>(e, E_PATH), <usize>load<u32>(e, E_PATHLEN), load<u32>(e, E_HASH));
  if (s >= 0) store<u32>(<usize>load<u32>(c, C_MAP) + (<usize>s << 2), 1);
  store<u8>(e, load<u8>(e, E_FLAGS) | F_DEAD, E_FLAGS);
}

function setFrom(e: usize, p: usize, n: usize): void {
  if (load<u8>(e, E_HASFROM) != 0 && load<u32>(e, E_FROMLEN) != 0) heap.free(<usize>load<u32>(e, E_FROM));
  store<u32>(e, <u32>copyBytes(p, n), E_FROM);
  store<u32>(e, <u32>n, E_FROMLEN);
  store<u8>(e, 1, E_HASFROM);
}

/** Breaks the rename pair ending at `e`: its source is reported removed (or modified). */
function breakPair(c: usize, e: usize, t: u64): void {
  const q = <usize>load<u32>(e, E_FROM);
  const qn = <usize>load<u32>(e, E_FROMLEN);
  store<u8>(e, 0, E_HASFROM);
  let src = find(c, q, qn);
  if (src == 0) src = newEntry(c, q, qn, t, 1, false); // now = 0: removed
  else store<u8>(src, 1, E_BEFORE); // it existed before: a re-created source is modified
  if (qn != 0) heap.free(q);
  store<u32>(e, 0, E_FROM);
  store<u32>(e, 0, E_FROMLEN);
}

// -------------------------------------------------------------------------------- API

/** A new coalescer with a window of `windowMs`. */
export function coalescerCreate(windowMs: u32): usize {
  const c = heap.alloc(C_SIZE);
  memory.fill(c, 0, C_SIZE);
  store<u64>(c, <u64>windowMs, C_WINDOW);
  mapRebuild(c, 0);
  return c;
}

/** Applies one change observed at `t`. Unknown kinds are ignored. */
export function coalescerApply(c: usize, kind: u8, p: usize, n: usize, hasOld: bool, op: usize, on: usize, t: u64): void {
  if (kind == KIND_OVERFLOW) {
    newEntry(c, p, n, t, 2, true);
    return;
  }
  if (kind == KIND_RENAMED) {
    if (!hasOld) kind = KIND_CREATED; // moved in from outside the tree: it appeared
    else if (bytesEqual(p, n, op, on)) kind = KIND_MODIFIED;
  }
  if (kind == KIND_CREATED) {
    const e = getOrNew(c, p, n, t, 0);
    store<u8>(e, 1, E_NOW);
  } else if (kind == KIND_MODIFIED) {
    const e = getOrNew(c, p, n, t, 1);
    store<u8>(e, 1, E_NOW);
  } else if (kind == KIND_REMOVED) {
    const e = getOrNew(c, p, n, t, 1);
    if (load<u8>(e, E_HASFROM) != 0) breakPair(c, e, t);
    store<u8>(e, 0, E_NOW);
  } else if (kind == KIND_RENAMED) {
    const src = find(c, op, on);
    if (src != 0 && load<u8>(src, E_BEFORE) == 0 && load<u8>(src, E_HASFROM) == 0) {
      // The source was created in this window: no pair, P simply has new content.
      kill(c, src);
      const e = getOrNew(c, p, n, t, 2);
      if (load<u8>(e, E_HASFROM) != 0) breakPair(c, e, t);
      store<u8>(e, 1, E_NOW);
      return;
    }
    // The origin of the content: O, or further back if O itself came from a rename (a chain).
    let originPtr = op;
    let originLen = on;
    let ownedOrigin: usize = 0;
    if (src != 0) {
      if (load<u8>(src, E_HASFROM) != 0) {
        ownedOrigin = <usize>load<u32>(src, E_FROM);
        originPtr = ownedOrigin;
        originLen = <usize>load<u32>(src, E_FROMLEN);
        store<u8>(src, 0, E_HASFROM);
        store<u32>(src, 0, E_FROM);
        store<u32>(src, 0, E_FROMLEN);
        // O existed before the window and was overwritten on the way: report it removed.
        if (load<u8>(src, E_BEFORE) == 1) store<u8>(src, 0, E_NOW);
        else kill(c, src);
      } else {
        kill(c, src); // its removal is what the pair reports
      }
    }
    const e = getOrNew(c, p, n, t, 2);
    if (load<u8>(e, E_HASFROM) != 0 &&
        !bytesEqual(<usize>load<u32>(e, E_FROM), <usize>load<u32>(e, E_FROMLEN), originPtr, originLen)) {
      breakPair(c, e, t);
    }
    if (bytesEqual(originPtr, originLen, p, n)) {
      // Renamed back where it started (A->B->A): same path, content possibly changed.
      if (load<u8>(e, E_HASFROM) != 0) {
        if (load<u32>(e, E_FROMLEN) != 0) heap.free(<usize>load<u32>(e, E_FROM));
        store<u8>(e, 0, E_HASFROM);
      }
      if (load<u8>(e, E_BEFORE) == 2) store<u8>(e, 1, E_BEFORE);
    } else {
      setFrom(e, originPtr, originLen);
    }
    store<u8>(e, 1, E_NOW);
    if (ownedOrigin != 0 && originLen != 0) heap.free(ownedOrigin);
  }
}

/** The kind an entry reports, or 255 for nothing. */
function reportKind(e: usize): u8 {
  const flags = load<u8>(e, E_FLAGS);
  if ((flags & F_DEAD) != 0) return 255;
  if ((flags & F_OVERFLOW) != 0) return KIND_OVERFLOW;
  if (load<u8>(e, E_HASFROM) != 0) return KIND_RENAMED;
  const now = load<u8>(e, E_NOW) != 0;
  if (load<u8>(e, E_BEFORE) == 0) return now ? KIND_CREATED : 255;
  return now ? KIND_MODIFIED : KIND_REMOVED;
}

/** Output of coalescerTake: a block (records then string bytes) and its record count. */
export let takenPtr: usize = 0;
export let takenCount: usize = 0;

/**
 * Removes every entry whose window closed by `now` (all of them when `all`), writes the
 * changes they report as lowered `change` records (one block: records, then string bytes)
 * into takenPtr/takenCount, and frees them.
 */
export function coalescerTake(c: usize, now: u64, all: bool): void {
  const list = <usize>load<u32>(c, C_LIST);
  const count = <usize>load<u32>(c, C_COUNT);
  const window = load<u64>(c, C_WINDOW);
  // Pass 1: how many records and string bytes.
  let nrec: usize = 0;
  let nbytes: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    const e = <usize>load<u32>(list + (i << 2));
    if (!all && (load<u8>(e, E_FLAGS) & F_DEAD) == 0 && load<u64>(e, E_FIRST) + window > now) continue;
    const k = reportKind(e);
    if (k == 255) continue;
    nrec++;
    nbytes += <usize>load<u32>(e, E_PATHLEN);
    if (k == KIND_RENAMED) nbytes += <usize>load<u32>(e, E_FROMLEN);
  }
  const block: usize = nrec == 0 ? 4 : heap.alloc(nrec * CHANGE_SIZE + nbytes);
  let rec = block;
  let str = block + nrec * CHANGE_SIZE;
  // Pass 2: write records, free what was taken, compact the rest in place.
  let kept: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    const e = <usize>load<u32>(list + (i << 2));
    const dead = (load<u8>(e, E_FLAGS) & F_DEAD) != 0;
    if (!all && !dead && load<u64>(e, E_FIRST) + window > now) {
      store<u32>(list + (kept << 2), <u32>e);
      kept++;
      continue;
    }
    const k = reportKind(e);
    if (k != 255) {
      const pn = <usize>load<u32>(e, E_PATHLEN);
      memory.copy(str, <usize>load<u32>(e, E_PATH), pn);
      store<u32>(rec, <u32>(pn == 0 ? <usize>1 : str), 0);
      store<u32>(rec, <u32>pn, 4);
      str += pn;
      store<u8>(rec, k, 8);
      if (k == KIND_RENAMED) {
        const fn = <usize>load<u32>(e, E_FROMLEN);
        memory.copy(str, <usize>load<u32>(e, E_FROM), fn);
        store<u8>(rec, 1, 12);
        store<u32>(rec, <u32>(fn == 0 ? <usize>1 : str), 16);
        store<u32>(rec, <u32>fn, 20);
        str += fn;
      } else {
        store<u8>(rec, 0, 12);
        store<u32>(rec, 0, 16);
        store<u32>(rec, 0, 20);
      }
      rec += CHANGE_SIZE;
    }
    freeEntry(e);
  }
  store<u32>(c, <u32>kept, C_COUNT);
  mapRebuild(c, kept);
  takenPtr = block;
  takenCount = nrec;
}

/** Frees a coalescer and everything pending in it. */
export function coalescerDestroy(c: usize): void {
  const list = <usize>load<u32>(c, C_LIST);
  const count = <usize>load<u32>(c, C_COUNT);
  for (let i: usize = 0; i < count; i++) freeEntry(<usize>load<u32>(list + (i << 2)));
  if (list != 0) heap.free(list);
  const map = <usize>load<u32>(c, C_MAP);
  if (map != 0) heap.free(map);
  heap.free(c);
}
