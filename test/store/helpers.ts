import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HasherName } from '../../host/node/store/hasher.js';
import { BlobStore, type BlobStoreOptions } from '../../host/node/store/blob-store.js';

export const HASHERS: HasherName[] = ['node-crypto', 'core'];

export function tempDir(prefix = 'forge-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The compiled dist/ tree that child processes and worker threads run. */
export const DIST = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../dist/host/node');

export function requireDist(file: string): string {
  const p = join(DIST, file);
  if (!existsSync(p)) throw new Error(`${p} is missing: build with \`npx tsc -p tsconfig.json\` first`);
  return p;
}

/** Runs `fn` with a store opened in a fresh temp dir, then closes the store and removes the dir. */
export async function withStore(options: BlobStoreOptions, fn: (store: BlobStore, dir: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  const store = await BlobStore.open(t.dir, options);
  try {
    await fn(store, t.dir);
  } finally {
    await store.close();
    t.cleanup();
  }
}
