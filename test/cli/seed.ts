// A store and index filled through the public API (real SQLite, real objects), for CLI tests that
// need a known history with chosen times, without running the daemon.
import * as fs from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { Index } from '../../host/node/index-db/index.js';

export interface SeedEvent {
  path: string;
  /** The content recorded, or null for a removal. */
  content: string | Uint8Array | null;
  timeMs: number;
}

/** Records `events` in order into `<root>/.forge`; objects are made older than gc's grace period. */
export async function seedHistory(root: string, events: readonly SeedEvent[]): Promise<void> {
  const storeDir = path.join(root, '.forge');
  const store = await BlobStore.open(storeDir, { workers: 0, io: false });
  const index = await Index.open(path.join(storeDir, 'index.db'));
  const seen = new Set<string>();
  try {
    for (const e of events) {
      if (e.content === null) {
        await index.addVersion({ path: e.path, kind: 'removed', timeMs: e.timeMs });
        seen.delete(e.path);
        continue;
      }
      const data = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      const { hash } = await store.put(data);
      await index.addVersion({ path: e.path, kind: seen.has(e.path) ? 'modified' : 'created', hash, size: data.length, mode: 0o644, timeMs: e.timeMs });
      seen.add(e.path);
    }
  } finally {
    await index.close();
    await store.close();
  }
  ageObjects(storeDir, 2 * 3600_000);
}

/** Sets every object's mtime `ageMs` into the past (gc leaves young objects alone). */
export function ageObjects(storeDir: string, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  const objects = path.join(storeDir, 'objects');
  for (const d of fs.existsSync(objects) ? fs.readdirSync(objects) : []) {
    const sub = path.join(objects, d);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub)) fs.utimesSync(path.join(sub, f), when, when);
  }
}

/** A Writable-like sink that keeps what the CLI writes. */
export function sink(): { write(chunk: string | Uint8Array, cb?: (e?: Error | null) => void): boolean; text(): string } {
  const parts: string[] = [];
  return {
    write(chunk, cb) {
      parts.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      cb?.(null);
      return true;
    },
    text: () => parts.join(''),
  };
}
