/**
 * SHA-256 for object names. The store uses the fastest implementation that
 * agrees with the core's vectors: node:crypto (SHA-NI, ~1.8 GB/s here) by
 * default; the core's WebAssembly SHA-256 (the portable reference) on request.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { ForgeError } from '../base/errors.js';
import { coreBindings } from './core-bindings.js';
import type { HashStream } from './hash-stream.js';
import { toHex } from './hex.js';

/** A SHA-256 implementation: `node-crypto` (default) or `core` (the WebAssembly reference). */
export type HasherName = 'node-crypto' | 'core';

export type { HashStream };

/** Computes object names: lowercase hex SHA-256. */
export interface Hasher {
  readonly name: HasherName;
  /** Lowercase hex SHA-256 of `data`. */
  hex(data: Uint8Array): string;
  /** Starts an incremental SHA-256. */
  stream(): HashStream;
}

export { toHex };

/**
 * One-shot SHA-256 (Node >= 20.12): no Hash object per call, which for the 4 KiB objects that
 * dominate a source tree is a third of the hashing cost. createHash where it is missing.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

const nodeCryptoHasher: Hasher = {
  name: 'node-crypto',
  hex: oneShot ? (data) => oneShot('sha256', data, 'hex') : (data) => createHash('sha256').update(data).digest('hex'),
  stream() {
    const h = createHash('sha256');
    return {
      update(data) {
        h.update(data);
      },
      hex() {
        return h.digest('hex');
      },
    };
  },
};

/**
 * The hasher named `name`. `core` loads the WebAssembly core first.
 *
 * @example
 * ```ts
 * const h = await createHasher('node-crypto');
 * h.hex(new TextEncoder().encode('abc')); // 'ba7816bf…'
 * ```
 */
export async function createHasher(name: HasherName = 'node-crypto'): Promise<Hasher> {
  if (name === 'node-crypto') return nodeCryptoHasher;
  if (name === 'core') {
    const core = coreBindings();
    return {
      name: 'core',
      hex: (data) => toHex(core.sha256(data)),
      stream: () => core.sha256Stream(),
    };
  }
  throw new ForgeError('configuration', `Unknown hasher ${JSON.stringify(name)}`, {
    suggestions: ["Use hasher 'node-crypto' (default) or 'core'."],
  });
}
