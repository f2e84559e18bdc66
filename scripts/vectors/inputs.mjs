// Input specifications used in vectors/*.json (see vectors/README.md). Vectors store
// how to regenerate an input rather than its bytes, except for short literal inputs.
//   { "seed": s, "size": n }            first n bytes of xorshift32(s) (vectors/prng.mjs)
//   { "textLike": s, "size": n }        n bytes of PRNG-chosen words (compressible), same PRNG
//   { "text": "abc" }                   the UTF-8 bytes of the string
//   { "hex": "00ff" }                   literal bytes
//   { "repeat": b, "size": n }          n copies of byte b
import { randomBytes, textLikeBytes } from '../../vectors/prng.mjs';

/** The bytes an input specification stands for. */
export function inputBytes(spec) {
  if ('text' in spec) return new TextEncoder().encode(spec.text);
  if ('hex' in spec) return new Uint8Array(Buffer.from(spec.hex, 'hex'));
  if ('repeat' in spec) return new Uint8Array(spec.size).fill(spec.repeat);
  if ('textLike' in spec) return textLikeBytes(spec.textLike, spec.size);
  if ('seed' in spec) return randomBytes(spec.seed, spec.size);
  throw new Error(`unknown input specification ${JSON.stringify(spec)}`);
}

/** Lowercase hex of bytes. */
export const toHex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
