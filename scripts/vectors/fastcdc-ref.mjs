// Independent plain-JS FastCDC reference (NOT the core under test): the expected cut points of
// vectors/fastcdc.json come from here. It follows the definition in core/fastcdc.ts,
// written again from that text with 32-bit halves instead of u64 arithmetic.

const MASK64 = (1n << 64n) - 1n;

/** GEAR[i]: the i-th SplitMix64 output from seed 0x466F726765434443 ("ForgeCDC"), as [hi, lo] u32 pairs. */
export function gearTable() {
  let state = 0x466f726765434443n;
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    z ^= z >> 31n;
    hi[i] = Number(z >> 32n);
    lo[i] = Number(z & 0xffffffffn);
  }
  return { hi, lo };
}

const GEAR = gearTable();

/** Cut points (chunk end offsets) of `data` for min/avg/max, as core/fastcdc.ts defines them. */
export function fastcdcRef(data, min, avg, max) {
  let bits = Math.floor(Math.log2(avg));
  if (2 ** bits > avg) bits--; // guard float rounding
  while (2 ** (bits + 1) <= avg) bits++;
  bits = Math.min(60, Math.max(4, bits));
  // Masks are the top k bits of the 64-bit fingerprint; with k <= 32 only the high word counts.
  const kS = bits + 2;
  const kL = bits - 2;
  if (kS > 32) throw new Error('reference supports avg < 2^30 only');
  const normalPoint = avg - Math.floor(avg / 8);
  const cuts = [];
  let start = 0;
  while (start < data.length) {
    const n = data.length - start;
    let len;
    if (n <= min) {
      len = n;
    } else {
      const end = Math.min(n, max);
      const normal = Math.min(normalPoint, end);
      let hi = 0;
      let lo = 0;
      len = end;
      for (let i = min; i < end; i++) {
        const b = data[start + i];
        // fp = (fp << 1) + GEAR[b]  (mod 2^64)
        hi = ((hi << 1) | (lo >>> 31)) >>> 0;
        lo = (lo << 1) >>> 0;
        const l = lo + GEAR.lo[b];
        lo = l >>> 0;
        hi = (hi + GEAR.hi[b] + (l > 0xffffffff ? 1 : 0)) >>> 0;
        const k = i < normal ? kS : kL;
        if (hi >>> (32 - k) === 0) {
          len = i + 1;
          break;
        }
      }
    }
    start += len;
    cuts.push(start);
  }
  return cuts;
}
