/**
 * What a remote holds: every pack index (read once, then cached in the local
 * store) and every single object, so that a push uploads only what no host
 * has pushed yet and a clone knows where each object lives.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RemoteClient } from './client.js';
import { decodeNamed, indexKey, type PackEntry, type PackIndex } from './format.js';

/** Where one object is on the remote. */
export type Location = { pack: string; offset: number; length: number; size: number } | { single: true; size: number };

export interface Catalog {
  /** Pack index name → index. */
  indexes: Map<string, PackIndex>;
  /** Content hash → where it is. */
  where: Map<string, Location>;
  /** Every key under packs/ (with size and time), for verify and gc. */
  packKeys: Map<string, { size: number; lastModifiedMs: number }>;
  /** Index keys with their time. */
  indexTimes: Map<string, number>;
  /** Single objects with their time. */
  singleTimes: Map<string, number>;
}

interface CacheFile {
  indexes: Record<string, PackIndex>;
}

function readCache(file: string | undefined): CacheFile {
  if (file === undefined) return { indexes: {} };
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    return c && typeof c.indexes === 'object' ? c : { indexes: {} };
  } catch {
    return { indexes: {} }; // absent or unreadable: rebuilt from the remote
  }
}

function writeCache(file: string, cache: CacheFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cache));
  renameSync(tmp, file);
}

/** The cache file of remote `name` inside a store directory. */
export function cacheFileOf(storeDir: string, name: string): string {
  return path.join(storeDir, 'remote-cache', `${name}.json`);
}

/**
 * Lists the remote and reads the pack indexes it has not seen before (in
 * parallel); indexes that vanished (gc) are dropped from the cache.
 */
export async function loadCatalog(client: RemoteClient, cacheFile?: string, concurrency = 8): Promise<Catalog> {
  const cache = readCache(cacheFile);
  const [indexList, packList, singleList] = await Promise.all([client.list('index/'), client.list('packs/'), client.list('objects/')]);
  const indexes = new Map<string, PackIndex>();
  const indexTimes = new Map<string, number>();
  const todo: string[] = [];
  for (const o of indexList) {
    const name = o.key.slice('index/'.length);
    indexTimes.set(name, o.lastModifiedMs);
    const cached = cache.indexes[name];
    if (cached) indexes.set(name, cached);
    else todo.push(name);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, todo.length) }, async () => {
      while (next < todo.length) {
        const name = todo[next++]!;
        const got = await client.get(indexKey(name));
        if (!got) continue; // removed by a gc meanwhile
        indexes.set(name, decodeNamed<PackIndex>('pack index', client.key(indexKey(name)), name, got.body));
      }
    }),
  );
  const packKeys = new Map(packList.map((o) => [o.key.slice('packs/'.length), { size: o.size, lastModifiedMs: o.lastModifiedMs }]));
  const where = new Map<string, Location>();
  for (const idx of indexes.values()) {
    if (!packKeys.has(idx.pack)) continue; // index of a pack that is gone: its objects are not there
    for (const [hash, offset, length, size] of idx.entries as PackEntry[]) {
      if (!where.has(hash)) where.set(hash, { pack: idx.pack, offset, length, size });
    }
  }
  const singleTimes = new Map<string, number>();
  for (const o of singleList) {
    const hash = o.key.slice('objects/'.length);
    singleTimes.set(hash, o.lastModifiedMs);
    if (!where.has(hash)) where.set(hash, { single: true, size: o.size });
  }
  if (cacheFile !== undefined) writeCache(cacheFile, { indexes: Object.fromEntries(indexes) });
  return { indexes, where, packKeys, indexTimes, singleTimes };
}

/** Writes the catalog's indexes to the cache file. */
export function saveCatalog(catalog: Catalog, cacheFile: string): void {
  writeCache(cacheFile, { indexes: Object.fromEntries(catalog.indexes) });
}

/** Adds a freshly written index to a catalog. */
export function rememberIndex(catalog: Catalog, name: string, idx: PackIndex): void {
  catalog.indexes.set(name, idx);
  catalog.indexTimes.set(name, Date.now());
  catalog.packKeys.set(idx.pack, { size: idx.packSize, lastModifiedMs: Date.now() });
  for (const [hash, offset, length, size] of idx.entries) if (!catalog.where.has(hash)) catalog.where.set(hash, { pack: idx.pack, offset, length, size });
}
