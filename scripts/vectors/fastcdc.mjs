// FastCDC vectors (vectors/fastcdc.json): PRNG inputs, parameters, and the expected cut
// points computed by the independent plain-JS reference (fastcdc-ref.mjs), not by the core.
import { inputBytes } from './inputs.mjs';
import { fastcdcRef } from './fastcdc-ref.mjs';
import { witExport, witPost } from '../lib/native-harness.mjs';

export const name = 'fastcdc';
export const description =
  'FastCDC cut points (chunk end offsets, ascending, the last = input length; none for empty input) ' +
  'of `input` with `params` {minSize, avgSize, maxSize}, as core/fastcdc.ts specifies (gear table ' +
  'from SplitMix64 seeded "ForgeCDC", top-bit masks, normal point 7/8 avg). Expected values from the ' +
  'independent reference scripts/vectors/fastcdc-ref.mjs.';

/** Who produced each expected field (recorded in the file). */
export const provenance = () => [
  {
    field: 'cutPoints',
    source: 'project-reference',
    tool: 'scripts/vectors/fastcdc-ref.mjs (plain JavaScript, written from the definition in vectors/README.md, separate from the core)',
    note: "No independent tool implements this FastCDC variant (its gear table and masks are Forge's own), so the project's reference model produces the expected values.",
  },
];

const CASES = [
  [{ seed: 1, size: 0 }, [16384, 65536, 262144]],
  [{ seed: 2, size: 10_000 }, [16384, 65536, 262144]],
  [{ seed: 3, size: 1 << 20 }, [16384, 65536, 262144]],
  [{ seed: 4, size: 200_000 }, [512, 2048, 8192]],
  [{ seed: 5, size: 50_000 }, [64, 256, 1024]],
  [{ textLike: 6, size: 300_000 }, [1024, 4096, 16384]],
  [{ repeat: 0, size: 100_000 }, [1024, 4096, 16384]],
  [{ seed: 7, size: 100_000 }, [3000, 5000, 7000]],
  [{ seed: 8, size: 70_000 }, [4096, 4096, 4096]],
];

export async function generate() {
  return CASES.map(([input, [minSize, avgSize, maxSize]]) => ({
    input,
    params: { minSize, avgSize, maxSize },
    cutPoints: fastcdcRef(inputBytes(input), minSize, avgSize, maxSize),
  }));
}

export const expected = (c) => c.cutPoints;

export function check(api, c) {
  return Array.from(api.chunker.cutPoints(inputBytes(c.input), c.params));
}

export async function checkNative(core, c) {
  const p = c.params;
  const ret = Number(await core.call(witExport('chunker', 'cut-points'), ...(await core.lowerBytes(inputBytes(c.input))), p.minSize, p.avgSize, p.maxSize));
  const bytes = Buffer.from(await core.liftList(ret, 4));
  await core.call(witPost('chunker', 'cut-points'), ret);
  const out = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(bytes.readUInt32LE(i));
  return out;
}
