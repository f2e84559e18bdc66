/**
 * Where things live inside a store directory. The layout is a public promise:
 *
 * ```
 * <root>/store.json                 format marker { "format": "forge-store", "version": 1 }
 * <root>/objects/<2 hex>/<62 hex>   one object: an LZ4 frame whose decoded content has that SHA-256
 * <root>/objects/tmp/               writes in progress (never a final name)
 * <root>/manifests/<2 hex>/<62 hex> chunked file: names the manifest object of the file with that SHA-256
 * ```
 */
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ForgeError } from '../base/errors.js';

export const OBJECTS_DIR = 'objects';
export const TMP_DIR = 'tmp';
export const MANIFESTS_DIR = 'manifests';
export const FORMAT_FILE = 'store.json';
export const FORMAT_NAME = 'forge-store';
export const FORMAT_VERSION = 1;

const HASH_RE = /^[0-9a-f]{64}$/;

/** True for a lowercase 64-hex SHA-256 name. */
export function isHash(hash: string): boolean {
  return HASH_RE.test(hash);
}

/** Throws a validation ForgeError unless `hash` is a lowercase 64-hex SHA-256. */
export function assertHash(hash: string, operation: string): void {
  if (typeof hash !== 'string' || !HASH_RE.test(hash)) {
    throw new ForgeError('validation', `Not a SHA-256 object name: ${JSON.stringify(hash)}`, {
      context: { operation },
      suggestions: ['Object names are 64 lowercase hex digits (the SHA-256 of the content).'],
    });
  }
}

// Plain concatenation (no path.join normalisation): these run on every put and get.
/** `<root>/objects/<2 hex>/<62 hex>` */
export function objectPath(root: string, hash: string): string {
  return `${root}${sep}${OBJECTS_DIR}${sep}${hash.slice(0, 2)}${sep}${hash.slice(2)}`;
}

/** `<root>/objects/<2 hex>` */
export function objectDir(root: string, hash: string): string {
  return `${root}${sep}${OBJECTS_DIR}${sep}${hash.slice(0, 2)}`;
}

/** `<root>/manifests/<2 hex>/<62 hex>` */
export function manifestRefPath(root: string, fileHash: string): string {
  return `${root}${sep}${MANIFESTS_DIR}${sep}${fileHash.slice(0, 2)}${sep}${fileHash.slice(2)}`;
}

export function tmpDir(root: string): string {
  return join(root, OBJECTS_DIR, TMP_DIR);
}

/** True for a two-hex fan-out directory name. */
export function isFanoutDir(name: string): boolean {
  return /^[0-9a-f]{2}$/.test(name);
}

/** True for a 62-hex object file name. */
export function isObjectFileName(name: string): boolean {
  return /^[0-9a-f]{62}$/.test(name);
}

/** The entries of a store directory; none when it does not exist (yet). */
export function listStoreDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
