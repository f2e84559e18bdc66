// LZ4 vectors (vectors/lz4.json). Expected values come from Debian's `lz4` CLI, never from
// the core:
//   kind "encode": Forge's encoder output for `input` with `options` (frame-options). Another
//     encoder need not produce the same bytes, but `lz4 -d` decodes `frame` to a content whose
//     SHA-256 is `decodedSha256` (= the input's). Forge must reproduce `frame` exactly and decode
//     it back.
//   kind "decode": a frame (stream) written by `lz4 <flags>` at generation time; decoding it
//     must give content with SHA-256 `decodedSha256` (what `lz4 -d` decodes it to).
//   kind "error": a damaged frame and the codec-error the decoder must return (by construction:
//     cut short -> truncated, wrong magic -> bad-magic, flipped payload byte -> checksum-mismatch).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputBytes, toHex } from './inputs.mjs';
import { toolVersion } from './tools.mjs';
import { witExport, witPost } from '../lib/native-harness.mjs';

export const name = 'lz4';
export const description =
  'LZ4 frames. kind "encode": Forge encodes `input` with `options` to exactly `frame` (hex), which ' +
  '`lz4 -d` decodes to content with SHA-256 `decodedSha256`; decoding `frame` gives the same. ' +
  'kind "decode": `frame` was written by the lz4 CLI with `flags`; it decodes to content with SHA-256 ' +
  '`decodedSha256` (per `lz4 -d`). kind "error": decoding `frame` fails with codec-error `error`.';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** Who produced each expected field, per case kind (recorded in the file). */
export function provenance() {
  const lz4 = toolVersion('lz4', ['--version']);
  const digest = `SHA-256 by node:crypto (OpenSSL ${process.versions.openssl})`;
  return [
    { field: 'decodedSha256', kind: 'encode', source: 'independent', tool: `${lz4}: \`lz4 -d\` of the frame; ${digest}` },
    {
      field: 'frame',
      kind: 'encode',
      source: 'project-output',
      tool: "Forge's encoder (core/lz4_frame.ts), pinned",
      note: 'LZ4 allows many encodings of one input, so no independent tool can produce these bytes; decodedSha256 proves them correct with the lz4 CLI.',
    },
    { field: 'frame', kind: 'decode', source: 'independent', tool: `${lz4}, run with the case's \`flags\`` },
    { field: 'decodedSha256', kind: 'decode', source: 'independent', tool: `${lz4}: \`lz4 -d\`; ${digest}` },
    { field: 'frame', kind: 'error', source: 'construction', tool: `a frame written by ${lz4} (-BX -B4 --content-size), then damaged on purpose` },
    {
      field: 'error',
      kind: 'error',
      source: 'construction',
      tool: 'the kind of damage done to the frame',
      note: 'cut short: truncated; first byte flipped: bad-magic; a byte inside a checksummed block flipped: checksum-mismatch.',
    },
  ];
}
const MAX = 1n << 32n; // max-size for every decode: no vector comes near it

function cli(args, input) {
  const r = spawnSync('lz4', args, { input, maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) throw new Error(`lz4 ${args.join(' ')} failed: ${r.error ?? r.stderr}`);
  return r.stdout;
}

const OPTIONS = [
  { blockSize: 65536, contentSize: true, contentChecksum: true, blockChecksum: false },
  { blockSize: 65536, contentSize: false, contentChecksum: false, blockChecksum: true },
  { blockSize: 262144, contentSize: true, contentChecksum: true, blockChecksum: true },
  { blockSize: 4194304, contentSize: true, contentChecksum: true, blockChecksum: false },
];
const ENCODE_INPUTS = [
  { textLike: 1, size: 0 },
  { textLike: 2, size: 1 },
  { textLike: 3, size: 13 },
  { seed: 4, size: 300 },
  { textLike: 5, size: 5000 },
  { seed: 6, size: 4096 },
  { textLike: 7, size: 70_000 },
  { textLike: 8, size: 90_000 },
  { repeat: 0, size: 100_000 },
  { text: 'abcabcabcabcabcabcabcabcabcabc' },
];
const FLAGS = [
  ['-1'],
  ['-9'],
  ['-BD', '-B4'],
  ['-BX', '-B4'],
  ['--content-size'],
  ['-B4'],
  ['-B5'],
  ['-B6'],
  ['-B7'],
  ['-BD', '-BX', '--content-size', '-B4', '-9'],
  ['--no-frame-crc'],
  ['-12', '-BD', '-B4'],
  ['-l'],
];

export async function generate() {
  const cases = [];
  ENCODE_INPUTS.forEach((input, i) => {
    const options = OPTIONS[i % OPTIONS.length];
    // The frame is Forge's (what we pin); the expected decoding is the CLI's.
    cases.push({ kind: 'encode', input, options, frame: null, decodedSha256: null });
  });
  const dir = mkdtempSync(join(tmpdir(), 'forge-vec-lz4-'));
  try {
    const decodeInputs = [
      { textLike: 20, size: 12_000 },
      { seed: 21, size: 1500 },
      { textLike: 22, size: 80_000 },
    ];
    for (const [j, input] of decodeInputs.entries()) {
      const file = join(dir, `in-${j}`);
      writeFileSync(file, inputBytes(input)); // from a file, so --content-size knows the size
      for (const flags of j === 0 ? FLAGS : FLAGS.slice(0, 4)) {
        const frame = cli([...flags, '-c', file]);
        cases.push({ kind: 'decode', input, flags, frame: toHex(frame), decodedSha256: sha256(cli(['-d', '-c'], frame)) });
      }
    }
    // One stream: a -BD frame, a skippable frame, a -BX -B4 frame.
    const a = cli(['-BD', '-c', join(dir, 'in-0')]);
    const skip = Buffer.alloc(12, 0x5a);
    skip.writeUInt32LE(0x184d2a55, 0);
    skip.writeUInt32LE(4, 4);
    const stream = Buffer.concat([a, skip, cli(['-BX', '-B4', '-c'], inputBytes({ seed: 23, size: 1000 }))]);
    cases.push({
      kind: 'decode',
      input: null,
      flags: ['concatenated: -BD frame, skippable frame, -BX -B4 frame'],
      frame: toHex(stream),
      decodedSha256: sha256(cli(['-d', '-c'], stream)),
    });
    // Damaged frames.
    const good = cli(['-BX', '-B4', '--content-size', '-c', join(dir, 'in-0')]);
    const flipped = Buffer.from(good);
    flipped[40] ^= 0x01; // inside the first block: its block checksum catches it
    const badMagic = Buffer.from(good);
    badMagic[0] ^= 0xff;
    cases.push({ kind: 'error', frame: toHex(good.subarray(0, good.length - 2)), error: 'truncated' });
    cases.push({ kind: 'error', frame: toHex(good.subarray(0, 5)), error: 'truncated' });
    cases.push({ kind: 'error', frame: toHex(badMagic), error: 'bad-magic' });
    cases.push({ kind: 'error', frame: toHex(flipped), error: 'checksum-mismatch' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The encoder under test writes the "encode" frames (through the jco bindings of the built
  // component); only their expected decodings come from the CLI.
  const { codec } = await import('../../gen/jco/forge-core.js');
  return finishEncodeCases(cases, codec);
}

/** Fills in the "encode" cases: the frame from Forge's encoder, the expected decoding from `lz4 -d`. */
async function finishEncodeCases(cases, codec) {
  for (const c of cases) {
    if (c.kind !== 'encode') continue;
    const frame = codec.lz4FrameCompress(inputBytes(c.input), c.options);
    c.frame = toHex(frame);
    c.decodedSha256 = sha256(cli(['-d', '-c'], frame));
    if (c.decodedSha256 !== sha256(inputBytes(c.input))) throw new Error(`lz4 -d does not give back input ${JSON.stringify(c.input)}`);
  }
  return cases;
}

export function expected(c) {
  if (c.kind === 'encode') return { frame: c.frame, decodedSha256: c.decodedSha256 };
  if (c.kind === 'decode') return c.decodedSha256;
  return { error: c.error };
}

export function check(api, c) {
  const codec = api.codec;
  if (c.kind === 'encode') {
    const frame = codec.lz4FrameCompress(inputBytes(c.input), c.options);
    return { frame: toHex(frame), decodedSha256: sha256(codec.lz4FrameDecompress(Buffer.from(c.frame, 'hex'), MAX)) };
  }
  try {
    const out = codec.lz4FrameDecompress(Buffer.from(c.frame, 'hex'), MAX);
    return c.kind === 'decode' ? sha256(out) : { ok: sha256(out) };
  } catch (e) {
    return { error: e.payload ?? String(e.message) };
  }
}

const ERRORS = ['bad-magic', 'unsupported', 'truncated', 'corrupt', 'checksum-mismatch', 'too-large'];

/** frame-decompress on the native core: { ok: bytes } or { error: name }. */
async function nativeDecode(core, frame) {
  const ret = Number(await core.call(witExport('codec', 'lz4-frame-decompress'), ...(await core.lowerBytes(frame)), MAX));
  const r = Buffer.from(await core.read(ret, 12));
  let out;
  if (r[0] === 0) out = { ok: await core.read(r.readUInt32LE(4), r.readUInt32LE(8)) };
  else out = { error: ERRORS[r[4]] ?? `bad enum ${r[4]}` };
  await core.call(witPost('codec', 'lz4-frame-decompress'), ret);
  return out;
}

export async function checkNative(core, c) {
  if (c.kind === 'encode') {
    const o = c.options;
    const ret = Number(
      await core.call(
        witExport('codec', 'lz4-frame-compress'),
        ...(await core.lowerBytes(inputBytes(c.input))),
        o.blockSize,
        o.contentSize ? 1 : 0,
        o.contentChecksum ? 1 : 0,
        o.blockChecksum ? 1 : 0,
      ),
    );
    const frame = toHex(await core.liftList(ret, 1));
    await core.call(witPost('codec', 'lz4-frame-compress'), ret);
    const d = await nativeDecode(core, Buffer.from(c.frame, 'hex'));
    return { frame, decodedSha256: d.ok ? sha256(d.ok) : d.error };
  }
  const d = await nativeDecode(core, Buffer.from(c.frame, 'hex'));
  if (c.kind === 'decode') return d.ok ? sha256(d.ok) : { error: d.error };
  return d.ok ? { ok: sha256(d.ok) } : { error: d.error };
}
