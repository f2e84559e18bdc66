// SHA-256 vectors: one-shot, streaming (split points) and batch. Expected digests come from
// coreutils' `sha256sum`, never from the core.
import { execFileSync } from 'node:child_process';
import { inputBytes, toHex } from './inputs.mjs';
import { toolVersion } from './tools.mjs';
import { witExport, witPost } from '../lib/native-harness.mjs';

export const name = 'sha256';
export const description =
  'SHA-256 (FIPS 180-4). kind "one-shot": sha256(input); "stream": the input fed in pieces cut at ' +
  '`splits` (ascending byte offsets), same digest; "batch": sha256-batch(inputs) = digests in order. ' +
  'Expected values computed by coreutils sha256sum.';

const sha256sum = (bytes) => execFileSync('sha256sum', ['-b', '-'], { input: bytes }).toString().slice(0, 64);

/** Who produced each expected field (recorded in the file). */
export const provenance = () => [{ field: 'sha256', source: 'independent', tool: toolVersion('sha256sum') }];

const FIPS = [
  { text: '' },
  { text: 'abc' },
  { text: 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq' },
  { text: 'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu' },
  { repeat: 0x61, size: 1_000_000 },
];

export async function generate() {
  const cases = [];
  for (const input of FIPS) cases.push({ kind: 'one-shot', input, sha256: sha256sum(inputBytes(input)) });
  // Every size around the padding boundaries, then larger ones.
  const sizes = [...Array.from({ length: 130 }, (_, i) => i), 191, 192, 255, 256, 1000, 4095, 4096, 4097, 65535, 65536, 65537, 100_000, 1 << 20];
  sizes.forEach((size, i) => {
    const input = { seed: 1000 + i, size };
    cases.push({ kind: 'one-shot', input, sha256: sha256sum(inputBytes(input)) });
  });
  for (const [size, splits] of [
    [0, [0]],
    [1, [0, 1]],
    [200, [1, 63, 64, 65, 130]],
    [70_000, [5, 4096, 65536]],
    [1 << 20, [1, 99_999, 500_000]],
  ]) {
    const input = { seed: 7000 + size, size };
    cases.push({ kind: 'stream', input, splits, sha256: sha256sum(inputBytes(input)) });
  }
  for (const [n, max] of [
    [0, 0],
    [1, 10],
    [7, 200],
    [40, 4096],
    [100, 5000],
  ]) {
    const inputs = Array.from({ length: n }, (_, i) => ({ seed: 9000 + n * 1000 + i, size: (i * 2654435761) % (max + 1) }));
    cases.push({ kind: 'batch', inputs, sha256: inputs.map((s) => sha256sum(inputBytes(s))) });
  }
  // Equal lengths around the padding boundaries, in groups of 2..9: the SIMD module hashes four
  // inputs per pass (a short group repeats a lane) and pads all four lanes itself.
  for (const size of [0, 55, 56, 63, 64, 65, 4096]) {
    for (const n of [2, 3, 4, 5, 9]) {
      const inputs = Array.from({ length: n }, (_, i) => ({ seed: 20_000 + size * 16 + n * 10 + i, size }));
      cases.push({ kind: 'batch', inputs, sha256: inputs.map((s) => sha256sum(inputBytes(s))) });
    }
  }
  return cases;
}

export const expected = (c) => c.sha256;

function pieces(bytes, splits) {
  const out = [];
  let at = 0;
  for (const p of [...splits, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

/** Through an API shaped like interface checksum (direct loader or jco). */
export function check(api, c) {
  const cs = api.checksum;
  if (c.kind === 'one-shot') return toHex(cs.sha256(inputBytes(c.input)));
  if (c.kind === 'stream') {
    const s = cs.sha256StreamNew();
    for (const p of pieces(inputBytes(c.input), c.splits)) cs.sha256StreamUpdate(s, p);
    return toHex(cs.sha256StreamFinish(s));
  }
  return cs.sha256Batch(c.inputs.map(inputBytes)).map(toHex);
}

/** Through the native (wasm2c) core, lowering and lifting by hand. */
export async function checkNative(core, c) {
  if (c.kind === 'one-shot') {
    const ret = Number(await core.call(witExport('checksum', 'sha256'), ...(await core.lowerBytes(inputBytes(c.input)))));
    const digest = toHex(await core.liftList(ret, 1));
    await core.call(witPost('checksum', 'sha256'), ret);
    return digest;
  }
  if (c.kind === 'stream') {
    const s = Number(await core.call(witExport('checksum', 'sha256-stream-new')));
    for (const p of pieces(inputBytes(c.input), c.splits)) {
      await core.call(witExport('checksum', 'sha256-stream-update'), s, ...(await core.lowerBytes(p)));
    }
    const ret = Number(await core.call(witExport('checksum', 'sha256-stream-finish'), s));
    const digest = toHex(await core.liftList(ret, 1));
    await core.call(witPost('checksum', 'sha256-stream-finish'), ret);
    return digest;
  }
  // batch: list<list<u8>> = array of (ptr, len) pairs, 4-aligned.
  const inputs = c.inputs.map(inputBytes);
  const descs = Buffer.alloc(inputs.length * 8);
  for (let i = 0; i < inputs.length; i++) {
    const [ptr, len] = await core.lowerBytes(inputs[i]);
    descs.writeUInt32LE(ptr, i * 8);
    descs.writeUInt32LE(len, i * 8 + 4);
  }
  const list = await core.alloc(descs.length, 4);
  await core.write(list, descs);
  const ret = Number(await core.call(witExport('checksum', 'sha256-batch'), list, inputs.length));
  const outer = Buffer.from(await core.liftList(ret, 8));
  const digests = [];
  for (let i = 0; i < inputs.length; i++) digests.push(toHex(await core.read(outer.readUInt32LE(i * 8), outer.readUInt32LE(i * 8 + 4))));
  await core.call(witPost('checksum', 'sha256-batch'), ret);
  return digests;
}
