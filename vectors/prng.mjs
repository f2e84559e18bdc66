// The PRNG every vector input comes from (documented in vectors/README.md, so other
// implementations can regenerate the inputs instead of storing them).
//
// xorshift32 (Marsaglia 2003): state = seed (a seed of 0 is replaced by 0x9E3779B9); each step
//   x ^= x << 13; x ^= x >>> 17; x ^= x << 5   (all mod 2^32)
// yields the new state as one 32-bit word. Bytes are the words in little-endian order, 4 per
// word, the last word truncated. `randomBytes(seed, n)` is the first n bytes of that stream.

/** A xorshift32 generator: each call returns the next 32-bit word (unsigned). */
export function xorshift32(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** The first `n` bytes of the xorshift32 stream seeded with `seed`. */
export function randomBytes(seed, n) {
  const next = xorshift32(seed);
  const out = new Uint8Array(n);
  const words = n >>> 2;
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words; i++) dv.setUint32(i * 4, next(), true);
  if (n & 3) {
    const w = next();
    for (let i = words * 4, s = 0; i < n; i++, s += 8) out[i] = (w >>> s) & 0xff;
  }
  return out;
}

/** Bytes that compress: words from a small vocabulary, chosen by the PRNG (for codec vectors). */
export function textLikeBytes(seed, n) {
  const vocab = ['the ', 'core ', 'forge ', 'const ', 'return ', '{ ', '} ', '\n', 'import ', 'export ', '= ', '0x', 'data', '; '];
  const next = xorshift32(seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const w = vocab[next() % vocab.length];
    for (let j = 0; j < w.length && i < n; j++) out[i++] = w.charCodeAt(j);
  }
  return out;
}
