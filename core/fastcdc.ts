// FastCDC content-defined chunking (Xia et al., "FastCDC", USENIX ATC 2016 / TPDS 2020):
// gear rolling hash, cut-point skipping below `min`, normalized chunking level 2.
//
// The exact definition, so that other implementations produce the same cut points
// (vectors/fastcdc.json pins it; scripts/vectors/fastcdc-ref.mjs is a plain-JS copy):
//
//   GEAR[i], i = 0..255: the i-th output of SplitMix64 seeded with 0x466F726765434443
//     ("ForgeCDC"): state += 0x9E3779B97F4A7C15; z = state;
//     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//     GEAR[i] = z ^ (z >> 31)                              (all arithmetic mod 2^64)
//   bits   = floor(log2(avg)), clamped to [4, 60]
//   MASK_S = the top (bits + 2) bits of a u64 set         (harder to match: before the normal point)
//   MASK_L = the top (bits - 2) bits of a u64 set         (easier to match: after it)
//   normal = avg - avg / 8                                 (see below)
//   A chunk starting at offset s with n = remaining bytes:
//     if n <= min: the chunk is n bytes
//     end = min(n, max); fp = 0
//     for i in [min, end): fp = (fp << 1) + GEAR[byte[s + i]]   (mod 2^64)
//                          mask = i < min(normal, end) ? MASK_S : MASK_L
//                          if (fp & mask) == 0: the chunk is i + 1 bytes
//     otherwise the chunk is `end` bytes.
//
// The top bits of the shift-left gear hash depend on the last 64 bytes, hence masks made of
// the top bits. The normal point sits at 7/8 of avg rather than at avg: past the normal point a
// cut comes after avg/4 bytes on average, so this centres the mean chunk size on avg (measured
// within a few percent for min = avg/4, max = 4 avg).

const GEAR: usize = memory.data(256 * 8, 8);
let gearReady = false;

function initGear(): void {
  let state: u64 = 0x466f726765434443;
  for (let i: usize = 0; i < 256; i++) {
    state += 0x9e3779b97f4a7c15;
    let z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    store<u64>(GEAR + (i << 3), z ^ (z >> 31));
  }
  gearReady = true;
}

/** Chunking parameters after clamping (module globals: set by cdcConfigure). */
let cMin: usize = 0;
let cMax: usize = 0;
let cNormal: usize = 0;
let maskS: u64 = 0;
let maskL: u64 = 0;

/**
 * Sets the parameters, clamping nonsense (the host validates and reports it first):
 * max >= 1, min <= max, min <= avg <= max.
 */
export function cdcConfigure(min: u32, avg: u32, max: u32): void {
  if (!gearReady) initGear();
  if (max == 0) max = 1;
  if (min > max) min = max;
  if (avg < min) avg = min;
  if (avg > max) avg = max;
  let bits: u32 = avg == 0 ? 0 : 31 - clz<u32>(avg);
  if (bits < 4) bits = 4;
  if (bits > 60) bits = 60;
  maskS = ~(<u64>0) << (64 - <u64>(bits + 2));
  maskL = ~(<u64>0) << (64 - <u64>(bits - 2));
  cMin = <usize>min;
  cMax = <usize>max;
  cNormal = <usize>(avg - (avg >> 3));
}

/** Length of the chunk starting at `p` with `n` bytes left (cdcConfigure first). */
export function cdcNextChunk(p: usize, n: usize): usize {
  if (n <= cMin) return n;
  const end = n < cMax ? n : cMax;
  const normal = cNormal < end ? cNormal : end;
  let fp: u64 = 0;
  let i = cMin;
  const ms = maskS;
  const ml = maskL;
  // Two loops, so the mask is a loop constant; two bytes per iteration where possible.
  while (i + 2 <= normal) {
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i) << 3));
    if ((fp & ms) == 0) return i + 1;
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i + 1) << 3));
    if ((fp & ms) == 0) return i + 2;
    i += 2;
  }
  while (i < normal) {
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i) << 3));
    if ((fp & ms) == 0) return i + 1;
    i++;
  }
  while (i + 2 <= end) {
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i) << 3));
    if ((fp & ml) == 0) return i + 1;
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i + 1) << 3));
    if ((fp & ml) == 0) return i + 2;
    i += 2;
  }
  while (i < end) {
    fp = (fp << 1) + load<u64>(GEAR + (<usize>load<u8>(p + i) << 3));
    if ((fp & ml) == 0) return i + 1;
    i++;
  }
  return end;
}

/** Most cut points `len` bytes can have with the configured minimum. */
export function cdcMaxCuts(len: usize): usize {
  const m = cMin > 0 ? cMin : 1;
  return len / m + 1;
}

/** Writes the end offset (u32) of every chunk of [p, p+len) at `out`; returns the count. */
export function cdcCutPoints(p: usize, len: usize, out: usize): usize {
  let off: usize = 0;
  let count: usize = 0;
  while (off < len) {
    off += cdcNextChunk(p + off, len - off);
    store<u32>(out + (count << 2), <u32>off);
    count++;
  }
  return count;
}
