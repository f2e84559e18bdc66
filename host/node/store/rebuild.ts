/**
 * Rebuilding a lost index from the store: the objects tell every content (whole objects, and
 * chunked files through their manifests), but not which paths held it or when. Each recovered
 * content becomes one version of `lost+found/<sha256>` (time: the object's last write), so it is
 * listed, restorable and kept by gc; the report says what could not be recovered.
 *
 * The old index, if any, is moved aside (never deleted), the new one is built under a
 * temporary name and renamed into place only when complete.
 */
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ForgeError } from '../base/errors.js';
import { Index, type AddVersionInput } from '../index-db/index.js';
import { indexFileIsNew } from '../index-db/store-guard.js';
import type { BlobStore } from './blob-store.js';
import { decodeManifest, MANIFEST_MAGIC, type Manifest } from './chunking.js';
import { isFanoutDir, isObjectFileName, listStoreDir, MANIFESTS_DIR, OBJECTS_DIR } from './object-path.js';
import { fsyncDirAsync } from './write.js';

/** The directory recovered contents are recorded under. */
export const LOST_FOUND = 'lost+found';
/** Objects whose content is larger than this are not opened to look for a manifest (manifests of 1 TiB files are ~400 MiB). */
const MANIFEST_PROBE_MAX = 64 << 20;
const magic = new TextEncoder().encode(`${MANIFEST_MAGIC}\n`);

export interface RebuildOptions {
  /** Replace an index that still holds versions (it is moved aside, not deleted). Default false. */
  force?: boolean;
  /** Called for every object examined. */
  onProgress?: (done: number, total: number) => void;
}

export interface RebuildReport {
  /** Versions recorded (one per recovered content). */
  recovered: number;
  /** Of those, chunked files (reassembled through their manifests). */
  chunked: number;
  /** Bytes of recovered content. */
  bytes: number;
  /** Objects that did not decode to their name: not recovered (listed by `forge verify`). */
  corrupt: string[];
  /** Manifest refs whose manifest or chunks are missing or damaged: that content is not recovered. */
  incomplete: string[];
  /** Where the previous index went, if there was one. */
  previousIndex?: string;
  /** What the objects cannot tell, in words. */
  lost: string[];
}

async function objectList(root: string): Promise<Array<{ hash: string; mtimeMs: number; fileSize: number }>> {
  const out: Array<{ hash: string; mtimeMs: number; fileSize: number }> = [];
  const objects = join(root, OBJECTS_DIR);
  for (const fan of listStoreDir(objects)) {
    if (!isFanoutDir(fan)) continue;
    for (const f of listStoreDir(join(objects, fan))) {
      if (!isObjectFileName(f)) continue;
      const st = statSync(join(objects, fan, f), { throwIfNoEntry: false });
      if (st) out.push({ hash: fan + f, mtimeMs: st.mtimeMs, fileSize: st.size });
    }
  }
  return out;
}

function isManifestBytes(b: Uint8Array): boolean {
  if (b.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[i] !== magic[i]) return false;
  return true;
}

/**
 * Builds a new index at `indexFile` from what `store` holds.
 *
 * @example
 * ```ts
 * const store = await BlobStore.open(storeDir);
 * const report = await rebuildIndex(store, join(storeDir, 'index.db'));
 * console.log(`${report.recovered} contents recovered under lost+found/`);
 * ```
 */
export async function rebuildIndex(store: BlobStore, indexFile: string, options: RebuildOptions = {}): Promise<RebuildReport> {
  if (!indexFileIsNew(indexFile) && !options.force) {
    let versions: number | undefined;
    try {
      const old = await Index.open(indexFile, { readonly: true });
      try {
        versions = (await old.stats()).versions;
      } finally {
        await old.close();
      }
    } catch {
      versions = undefined; // unreadable: a rebuild is what it needs
    }
    if (versions !== undefined && versions > 0) {
      throw new ForgeError(
        'validation',
        `The index ${indexFile} holds ${versions} versions; a rebuild would replace their paths and times with lost+found entries`,
        {
          context: { file: indexFile, operation: 'index rebuild' },
          suggestions: [
            'Run `forge verify` first; rebuild only a lost or damaged index.',
            'Add --force to rebuild anyway (the current index is kept aside as index.db.before-rebuild-<time>).',
          ],
        },
      );
    }
  }
  const list = await objectList(store.root);
  const contents = new Map<string, { size: number; mtimeMs: number }>();
  const manifests = new Map<string, Manifest>();
  const corrupt: string[] = [];
  let done = 0;
  for (const o of list) {
    options.onProgress?.(++done, list.length);
    try {
      const st = await store.stat(o.hash);
      if (st === undefined) continue; // removed meanwhile
      if (st.size <= MANIFEST_PROBE_MAX) {
        const bytes = await store.get(o.hash); // verified against its name
        if (isManifestBytes(bytes)) {
          try {
            manifests.set(o.hash, decodeManifest(bytes));
            continue;
          } catch {
            // starts like a manifest but is none: a content like any other
          }
        }
      }
      contents.set(o.hash, { size: st.size, mtimeMs: o.mtimeMs });
    } catch {
      corrupt.push(o.hash);
    }
  }
  // Chunks and manifests are parts of chunked files, not contents of their own.
  const parts = new Set<string>();
  for (const [h, m] of manifests) {
    parts.add(h);
    for (const c of m.chunks) parts.add(c.hash);
  }
  const versions: AddVersionInput[] = [];
  let bytes = 0;
  let chunked = 0;
  const incomplete: string[] = [];
  const refs = join(store.root, MANIFESTS_DIR);
  for (const fan of listStoreDir(refs)) {
    if (!isFanoutDir(fan)) continue;
    for (const f of listStoreDir(join(refs, fan))) {
      if (!isObjectFileName(f)) continue;
      const hash = fan + f;
      const text = readFileSync(join(refs, fan, f), 'utf8');
      const mh = /^([0-9a-f]{64})\n$/.exec(text)?.[1];
      const m = mh === undefined ? undefined : manifests.get(mh);
      if (m === undefined || m.sha256 !== hash || m.chunks.some((c) => !contents.has(c.hash) && !manifests.has(c.hash))) {
        incomplete.push(hash);
        continue;
      }
      const mtimeMs = statSync(join(refs, fan, f)).mtimeMs;
      versions.push({
        path: `${LOST_FOUND}/${hash}`,
        kind: 'created',
        hash,
        size: m.size,
        timeMs: Math.round(mtimeMs),
        manifest: mh!,
        chunks: m.chunks.length,
      });
      bytes += m.size;
      chunked++;
    }
  }
  for (const [hash, c] of contents) {
    if (parts.has(hash)) continue;
    versions.push({ path: `${LOST_FOUND}/${hash}`, kind: 'created', hash, size: c.size, timeMs: Math.round(c.mtimeMs) });
    bytes += c.size;
  }
  versions.sort((a, b) => a.timeMs! - b.timeMs! || (a.hash! < b.hash! ? -1 : 1));

  const tmp = `${indexFile}.rebuild-${process.pid}`;
  const fresh = await Index.open(tmp, { rebuild: true });
  try {
    for (let i = 0; i < versions.length; i += 500) await fresh.addVersions(versions.slice(i, i + 500));
    await fresh.setState('rebuilt', { atMs: Date.now(), recovered: versions.length, corrupt: corrupt.length, incomplete: incomplete.length });
  } finally {
    await fresh.close();
  }
  let previousIndex: string | undefined;
  if (existsSync(indexFile)) {
    previousIndex = `${indexFile}.before-rebuild-${Date.now()}`;
    renameSync(indexFile, previousIndex);
  }
  // A WAL of the old database must not be replayed into the new one.
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(indexFile + suffix)) renameSync(indexFile + suffix, `${previousIndex ?? `${indexFile}.before-rebuild-${Date.now()}`}${suffix}`);
  }
  renameSync(tmp, indexFile);
  await fsyncDirAsync(dirname(indexFile));
  return {
    recovered: versions.length,
    chunked,
    bytes,
    corrupt: corrupt.sort(),
    incomplete: incomplete.sort(),
    ...(previousIndex ? { previousIndex } : {}),
    lost: [
      'the paths that held each content (each is recorded as lost+found/<sha256>)',
      "the times of the versions (each gets its object's last write time)",
      'which versions followed which, removals and renames',
      'file modes, mtimes and inode numbers',
    ],
  };
}

/**
 * Refuses a gc when the index and the store disagree about being new: an index without a single
 * version beside a store that holds objects would let gc delete every object.
 */
export async function assertIndexCoversStore(index: Index, store: BlobStore): Promise<void> {
  const { versions } = await index.stats();
  if (versions > 0) return;
  const list = await objectList(store.root);
  if (list.length === 0) return;
  throw new ForgeError('integrity', `The index ${index.file} records no versions, but the store holds ${list.length} objects: gc would delete them all`, {
    context: { file: index.file, operation: 'gc', objects: list.length, code: 'ERR_INDEX_LOST' },
    suggestions: ['Run `forge index rebuild` to record every content the store holds, then gc.', 'If you have a copy of index.db, put it back first.'],
  });
}
