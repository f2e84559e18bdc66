/**
 * Chunked content: FastCDC cut points (from the core) and the manifest object
 * format. A manifest is UTF-8 text, one record per line, `\n`-terminated:
 *
 * ```
 * forge-manifest 1
 * size <total bytes, decimal>
 * sha256 <64 hex: SHA-256 of the whole content>
 * chunk <64 hex: chunk object name> <chunk bytes, decimal>
 * chunk …                                       (in content order, at least one)
 * ```
 *
 * The manifest is itself an object (named by the SHA-256 of these bytes), and
 * `manifests/<2>/<62>` (named by the whole-content hash) holds `<manifest hash>\n`.
 * So `cat` of the chunks in order reproduces the content, and its SHA-256 is
 * both the `sha256` line and the ref's name.
 */
import { ForgeError } from '../base/errors.js';
import type { CdcParams } from './core-bindings.js';

export const MANIFEST_MAGIC = 'forge-manifest 1';

export const DEFAULT_CDC: CdcParams = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

export interface ManifestChunk {
  hash: string;
  size: number;
}

export interface Manifest {
  size: number;
  sha256: string;
  chunks: ManifestChunk[];
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a manifest object. */
export function encodeManifest(m: Manifest): Uint8Array {
  const lines = [MANIFEST_MAGIC, `size ${m.size}`, `sha256 ${m.sha256}`];
  for (const c of m.chunks) lines.push(`chunk ${c.hash} ${c.size}`);
  return enc.encode(lines.join('\n') + '\n');
}

function bad(detail: string, where?: string): ForgeError {
  return new ForgeError('validation', `Not a valid Forge manifest${where ? ` (${where})` : ''}: ${detail}`, {
    context: { operation: 'read manifest', ...(where ? { file: where } : {}) },
    suggestions: ['Run `forge verify` to find damaged objects; re-adding the file repairs its manifest.'],
  });
}

/** Parses manifest bytes; throws ForgeError('validation') if they are not a well-formed manifest. */
export function decodeManifest(bytes: Uint8Array, where?: string): Manifest {
  let text: string;
  try {
    text = dec.decode(bytes);
  } catch {
    throw bad('not UTF-8', where);
  }
  if (!text.endsWith('\n')) throw bad('missing final newline', where);
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== MANIFEST_MAGIC) throw bad(`first line is not "${MANIFEST_MAGIC}"`, where);
  const size = /^size (0|[1-9][0-9]*)$/.exec(lines[1] ?? '');
  const sha = /^sha256 ([0-9a-f]{64})$/.exec(lines[2] ?? '');
  if (!size || !sha) throw bad('size/sha256 lines malformed', where);
  const chunks: ManifestChunk[] = [];
  let total = 0;
  for (let i = 3; i < lines.length; i++) {
    const m = /^chunk ([0-9a-f]{64}) ([1-9][0-9]*)$/.exec(lines[i]!);
    if (!m) throw bad(`line ${i + 1} malformed`, where);
    const s = Number(m[2]);
    chunks.push({ hash: m[1]!, size: s });
    total += s;
  }
  const declared = Number(size[1]);
  if (chunks.length === 0) throw bad('no chunks', where);
  if (total !== declared || !Number.isSafeInteger(declared)) throw bad(`chunk sizes add up to ${total}, not ${declared}`, where);
  return { size: declared, sha256: sha[1]!, chunks };
}

/** Checks FastCDC parameters (min <= avg <= max, all >= 64 bytes). */
export function checkCdcParams(p: CdcParams): CdcParams {
  const ok = [p.min, p.avg, p.max].every((v) => Number.isInteger(v) && v >= 64 && v <= 1 << 28) && p.min <= p.avg && p.avg <= p.max;
  if (!ok) {
    throw new ForgeError('configuration', `Invalid chunking parameters min=${p.min} avg=${p.avg} max=${p.max}`, {
      context: { operation: 'open store', field: 'cdc' },
      suggestions: ['Use integers with 64 <= min <= avg <= max (default 16 KiB / 64 KiB / 256 KiB).'],
    });
  }
  return p;
}

/** Splits `data` at `cuts` (end offsets, the last = data.length) into views. */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const end of cuts) {
    if (end <= start || end > data.length) {
      throw new ForgeError('unknown', `chunker returned a bad cut point ${end} after ${start} (length ${data.length})`, {
        context: { operation: 'chunk' },
      });
    }
    out.push(data.subarray(start, end));
    start = end;
  }
  if (start !== data.length) {
    throw new ForgeError('unknown', `chunker cut points end at ${start}, not ${data.length}`, { context: { operation: 'chunk' } });
  }
  return out;
}
