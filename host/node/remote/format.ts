/**
 * The remote layout (documented in docs/remote.md so other tools can read it):
 *
 * ```
 * <prefix>/forge-remote.json              {"format":"forge-remote","version":1}
 * <prefix>/packs/<sha256 of the pack>     LZ4 frames, one per object, back to back
 * <prefix>/index/<sha256 of the file>     LZ4 frame of JSON: the pack's name and its entries
 * <prefix>/objects/<sha256 of content>    one large object: an LZ4 frame of its content
 * <prefix>/hosts/<host>/segments/<sha256> LZ4 frame of JSON: versions since the previous segment
 * <prefix>/hosts/<host>/head.json         JSON: newest segment, last seq (conditional writes)
 * ```
 *
 * Everything but the two JSON files is immutable and named by its SHA-256.
 */
import { createHash } from 'node:crypto';
import { ForgeError } from '../base/errors.js';
import { lz4Compress, lz4Decompress } from '../core/codec.js';
import type { VersionRecord } from '../index-db/index.js';

export const MARKER_KEY = 'forge-remote.json';
export const FORMAT = { format: 'forge-remote', version: 1 } as const;

export const packKey = (hash: string): string => `packs/${hash}`;
export const indexKey = (hash: string): string => `index/${hash}`;
export const objectKey = (hash: string): string => `objects/${hash}`;
export const segmentKey = (host: string, hash: string): string => `hosts/${host}/segments/${hash}`;
export const headKey = (host: string): string => `hosts/${host}/head.json`;

/** One object inside a pack: content hash, byte range of its frame in the pack, content size. */
export type PackEntry = [hash: string, offset: number, length: number, size: number];

export interface PackIndex {
  format: 'forge-pack-index';
  version: 1;
  pack: string;
  packSize: number;
  entries: PackEntry[];
}

/** One version as segments carry it (the index's columns, by name). */
export type SegmentVersion = Pick<VersionRecord, 'seq' | 'path' | 'timeMs' | 'kind' | 'hash' | 'size' | 'mode' | 'mtimeMs' | 'ino' | 'oldPath'>;

export interface Segment {
  format: 'forge-segment';
  version: 1;
  host: string;
  /** The previous segment of this host, or null for the first. */
  prev: string | null;
  fromSeq: number;
  toSeq: number;
  createdMs: number;
  versions: SegmentVersion[];
}

export interface Head {
  format: 'forge-head';
  version: 1;
  host: string;
  segment: string;
  seq: number;
  segments: number;
  updatedMs: number;
}

const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Throws unless `host` is usable as a key part. */
export function checkHost(host: string): string {
  if (!HOST_RE.test(host)) {
    throw new ForgeError('validation', `invalid host name ${JSON.stringify(host)} for a remote`, {
      context: { operation: 'remote host' },
      suggestions: ['Use letters, digits, ".", "_" or "-" (at most 63), e.g. --host laptop.'],
    });
  }
  return host;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** JSON → LZ4 frame. */
export function encodeJson(value: unknown): Uint8Array {
  return lz4Compress(enc.encode(JSON.stringify(value)));
}

/** The error for remote data that is not what its name or format says. */
export function integrity(what: string, key: string, detail: string): ForgeError {
  return new ForgeError('integrity', `remote ${what} ${key} is damaged: ${detail}`, {
    context: { operation: 'remote read', file: key, code: 'EBADMSG' },
    suggestions: [
      'Nothing from it was written locally. Run `forge remote verify` to list what is damaged and what it affects.',
      'Push again from a host that still has the data: it re-uploads missing or damaged content after `forge remote gc` removed the bad file.',
    ],
  });
}

/** Checks `bytes` against the SHA-256 in its name and decodes the JSON frame inside. */
export function decodeNamed<T>(what: string, key: string, name: string, bytes: Uint8Array): T {
  const actual = sha256(bytes);
  if (actual !== name) throw integrity(what, key, `its SHA-256 is ${actual}`);
  try {
    return JSON.parse(dec.decode(lz4Decompress(bytes))) as T;
  } catch (e) {
    throw integrity(what, key, `not a JSON LZ4 frame (${(e as Error).message})`);
  }
}

/** Decodes one object frame and checks its content against `hash`. */
export function decodeObject(frame: Uint8Array, hash: string, key: string): Uint8Array {
  let content: Uint8Array;
  try {
    content = lz4Decompress(frame);
  } catch (e) {
    throw integrity('object', `${key}#${hash}`, `not a valid LZ4 frame (${(e as Error).message})`);
  }
  const actual = sha256(content);
  if (actual !== hash) throw integrity('object', `${key}#${hash}`, `its content has SHA-256 ${actual}`);
  return content;
}

/** Plain JSON (head, marker). */
export function parseJson<T>(what: string, key: string, bytes: Uint8Array): T {
  try {
    return JSON.parse(dec.decode(bytes)) as T;
  } catch {
    throw integrity(what, key, 'not valid JSON');
  }
}

export function jsonBytes(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value) + '\n');
}
