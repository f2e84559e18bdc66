// xxh32 vectors. Expected values come from hash-wasm's xxhash32 (the reference C code compiled to
// WebAssembly), never from the core.
import { createXXHash32 } from 'hash-wasm';
import { inputBytes } from './inputs.mjs';
import { packageVersion } from './tools.mjs';
import { witExport } from '../lib/native-harness.mjs';

export const name = 'xxh32';
export const description =
  'xxHash32 (the LZ4 frame checksum): xxh32(input, seed) as an unsigned 32-bit integer. ' +
  'Expected values computed by hash-wasm (the xxHash reference C code).';

/** Who produced each expected field (recorded in the file). */
export const provenance = () => [
  { field: 'xxh32', source: 'independent', tool: `${packageVersion('hash-wasm')} createXXHash32 (the xxHash reference C code compiled to WebAssembly)` },
];

export async function generate() {
  const seeds = [0, 1, 0x9e3779b1, 0xffffffff, 20141025];
  const sizes = [...Array.from({ length: 41 }, (_, i) => i), 63, 64, 65, 1000, 4096, 65536, 100_003, 1 << 20];
  const cases = [];
  for (const text of ['', 'a', 'abc', 'Nobody inspects the spammish repetition']) cases.push({ input: { text }, seed: 0 });
  sizes.forEach((size, i) => cases.push({ input: { seed: 20_000 + i, size }, seed: seeds[i % seeds.length] }));
  for (const seed of seeds) cases.push({ input: { textLike: 31, size: 5000 }, seed });
  for (const c of cases) {
    const h = await createXXHash32(c.seed);
    h.init();
    h.update(inputBytes(c.input));
    c.xxh32 = parseInt(h.digest('hex'), 16);
  }
  return cases;
}

export const expected = (c) => c.xxh32;

export function check(api, c) {
  return api.checksum.xxh32(inputBytes(c.input), c.seed);
}

export async function checkNative(core, c) {
  const [ptr, len] = await core.lowerBytes(inputBytes(c.input));
  return Number(await core.call(witExport('checksum', 'xxh32'), ptr, len, c.seed));
}
