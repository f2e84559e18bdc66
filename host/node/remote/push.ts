/**
 * `forge push`: uploads the objects the remote lacks (small ones packed,
 * large ones single), then the versions since this host's last push as new
 * immutable segments, then moves the host's head with a conditional write.
 * Anything that arrived before an interruption is found by name and not sent again.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ForgeError } from '../base/errors.js';
import { lz4Compress } from '../core/codec.js';
import type { Index } from '../index-db/index.js';
import type { BlobStore } from '../store/blob-store.js';
import { decodeManifest } from '../store/chunking.js';
import { objectPath } from '../store/object-path.js';
import { cacheFileOf, loadCatalog, rememberIndex, saveCatalog, type Catalog } from './catalog.js';
import type { RemoteClient, RequestCounts } from './client.js';
import {
  checkHost,
  encodeJson,
  headKey,
  indexKey,
  objectKey,
  packKey,
  segmentKey,
  sha256,
  type PackEntry,
  type PackIndex,
  type Segment,
  type SegmentVersion,
} from './format.js';
import { maxSeq, versionsAfter } from './history-rows.js';
import { ensureMarker, readHead, writeHead } from './heads.js';

export interface PushOptions {
  /** Pack size target in bytes (default 32 MiB). */
  packSize?: number;
  /** Packs or objects uploading at once (default 4). */
  concurrency?: number;
  /** Versions per segment (default 50,000). */
  segmentVersions?: number;
  onProgress?: (p: { objects: number; bytes: number; totalObjects: number; totalBytes: number }) => void;
}

export interface PushResult {
  remote: string;
  host: string;
  upToDate: boolean;
  versions: number;
  objects: number;
  packs: number;
  singles: number;
  bytes: number;
  /** Objects another host (or an earlier, interrupted push) had uploaded already. */
  deduplicated: number;
  segments: number;
  headSeq: number;
  requests: RequestCounts;
  ms: number;
}

export const DEFAULT_PACK_SIZE = 32 << 20;
const MAX_HEAD_RACES = 10;

/** The host name this store pushes as: `--host`, FORGE_HOST, the saved one, else the machine's name. */
export async function pushHost(index: Index, given?: string): Promise<string> {
  const saved = await index.getState<string>('remote.host');
  const host = checkHost(
    given ??
      process.env['FORGE_HOST'] ??
      saved ??
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 63),
  );
  if (saved !== host) await index.setState('remote.host', host);
  return host;
}

interface Item {
  hash: string;
  frame: Uint8Array;
  size: number;
}

async function frameOf(store: BlobStore, hash: string): Promise<{ frame: Uint8Array; single: boolean }> {
  try {
    // The store's object file is already one LZ4 frame of the content: sent as it is.
    return { frame: await readFile(objectPath(store.root, hash)), single: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!(await store.has(hash))) {
    throw new ForgeError('integrity', `the local store lacks object ${hash}, which a recorded version refers to`, {
      context: { operation: 'push', hash },
      suggestions: ['Run `forge verify --repair` on this store, then push again.'],
    });
  }
  // Chunked (large) content: its chunks' frames back to back, read as they are. Concatenated
  // LZ4 frames decode to the concatenated content, so this is one object on the remote.
  const st = await store.stat(hash);
  if (!st?.manifest) return { frame: lz4Compress(await store.get(hash)), single: true };
  const manifest = decodeManifest(await store.get(st.manifest), st.manifest);
  const frames = await Promise.all(manifest.chunks.map((c) => readFile(objectPath(store.root, c.hash))));
  return { frame: Buffer.concat(frames), single: true };
}

/** Runs `fn` over `items` with at most `limit` in flight, in order of start. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Pushes the history of `index`/`store` to the remote behind `client`.
 *
 * @example
 * ```ts
 * const r = await push(client, index, store, { host: 'laptop', storeDir: '/srv/tree/.forge' });
 * console.log(`${r.objects} objects in ${r.packs} packs`);
 * ```
 */
export async function push(
  client: RemoteClient,
  index: Index,
  store: BlobStore,
  ctx: { host: string; storeDir: string },
  options: PushOptions = {},
): Promise<PushResult> {
  const t0 = performance.now();
  const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
  const concurrency = options.concurrency ?? 4;
  const perSegment = options.segmentVersions ?? 50_000;
  const result: PushResult = {
    remote: client.spec.name,
    host: ctx.host,
    upToDate: false,
    versions: 0,
    objects: 0,
    packs: 0,
    singles: 0,
    bytes: 0,
    deduplicated: 0,
    segments: 0,
    headSeq: 0,
    requests: client.counts,
    ms: 0,
  };
  await ensureMarker(client);
  let head = await readHead(client, ctx.host);
  const localTop = await maxSeq(index);
  if (head && head.head.seq > localTop) {
    throw new ForgeError(
      'validation',
      `host '${ctx.host}' on remote '${client.spec.name}' has versions up to seq ${head.head.seq}, beyond this store's newest (${localTop})`,
      {
        context: { operation: 'push', host: ctx.host },
        suggestions: ['Another store pushes under the same host name: give this one its own with `forge push --host <name>`.'],
      },
    );
  }
  let versions = await versionsAfter(index, head?.head.seq ?? 0);
  if (versions.length === 0) {
    result.upToDate = true;
    result.headSeq = head?.head.seq ?? 0;
    result.ms = performance.now() - t0;
    return result;
  }
  const cacheFile = cacheFileOf(ctx.storeDir, client.spec.name);
  const catalog = await loadCatalog(client, cacheFile);
  await uploadContent(client, store, catalog, versions, { packSize, concurrency, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }, result);
  saveCatalog(catalog, cacheFile);

  // Segments, then the head; a lost race re-reads the head and adds only what it lacks.
  for (let race = 0; ; race++) {
    let prev = head?.head.segment ?? null;
    let count = head?.head.segments ?? 0;
    for (let i = 0; i < versions.length; i += perSegment) {
      const part = versions.slice(i, i + perSegment);
      const seg: Segment = {
        format: 'forge-segment',
        version: 1,
        host: ctx.host,
        prev,
        fromSeq: part[0]!.seq,
        toSeq: part[part.length - 1]!.seq,
        createdMs: Date.now(),
        versions: part,
      };
      const bytes = encodeJson(seg);
      const name = sha256(bytes);
      await client.put(segmentKey(ctx.host, name), bytes, { ifNoneMatch: true });
      prev = name;
      count++;
      result.segments++;
    }
    const toSeq = versions[versions.length - 1]!.seq;
    const ok = await writeHead(
      client,
      ctx.host,
      { format: 'forge-head', version: 1, host: ctx.host, segment: prev!, seq: toSeq, segments: count, updatedMs: Date.now() },
      head?.etag,
    );
    if (ok) {
      result.versions = versions.length;
      result.headSeq = toSeq;
      break;
    }
    if (race >= MAX_HEAD_RACES) {
      throw new ForgeError('network', `push: the head of host '${ctx.host}' kept changing under ${MAX_HEAD_RACES} attempts`, {
        context: { operation: 'push head', host: ctx.host },
        retryable: true,
        suggestions: ['Another push for this host is running; wait for it, then push again.'],
      });
    }
    head = await readHead(client, ctx.host);
    const covered = head?.head.seq ?? 0;
    versions = versions.filter((v) => v.seq > covered);
    if (versions.length === 0) {
      result.headSeq = covered;
      break;
    }
  }
  // Content this push found on the remote instead of sending may belong to packs a
  // concurrent `remote gc` judged unreferenced: look again, and send what vanished.
  if (result.deduplicated > 0) {
    const fresh = await loadCatalog(client, cacheFile);
    const lost = versions.filter((v) => v.hash !== null && !fresh.where.has(v.hash));
    if (lost.length > 0) {
      const before = result.deduplicated;
      await uploadContent(client, store, fresh, lost, { packSize, concurrency }, result);
      result.deduplicated = before - lost.length;
      saveCatalog(fresh, cacheFile);
    }
  }
  result.ms = performance.now() - t0;
  return result;
}

async function uploadContent(
  client: RemoteClient,
  store: BlobStore,
  catalog: Catalog,
  versions: readonly SegmentVersion[],
  opt: { packSize: number; concurrency: number; onProgress?: PushOptions['onProgress'] },
  result: PushResult,
): Promise<void> {
  const sizes = new Map<string, number>();
  for (const v of versions) if (v.hash !== null) sizes.set(v.hash, v.size ?? 0);
  const missing = [...sizes.keys()].filter((h) => !catalog.where.has(h)).sort();
  result.deduplicated = sizes.size - missing.length;
  const totalBytes = missing.reduce((s, h) => s + sizes.get(h)!, 0);
  const tick = (n: number, b: number) => {
    result.objects += n;
    opt.onProgress?.({ objects: result.objects, bytes: result.bytes, totalObjects: missing.length, totalBytes });
    void b;
  };
  let pack: Item[] = [];
  let packBytes = 0;
  const inFlight = new Set<Promise<void>>();
  const launch = async (p: Promise<void>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= opt.concurrency) await Promise.race(inFlight);
  };
  const flush = async () => {
    if (pack.length === 0) return;
    const items = pack;
    pack = [];
    packBytes = 0;
    await launch(uploadPack(client, catalog, items, result).then(() => tick(items.length, 0)));
  };
  // Read frames a batch at a time (parallel reads), append in sorted order: the same
  // missing set always makes the same packs, so a resumed push names them the same.
  const BATCH = 256;
  for (let i = 0; i < missing.length; i += BATCH) {
    const batch = missing.slice(i, i + BATCH);
    const frames = await Promise.all(batch.map((h) => frameOf(store, h)));
    for (let k = 0; k < batch.length; k++) {
      const hash = batch[k]!;
      const { frame, single } = frames[k]!;
      // Large content goes up alone only when it would fill a pack by itself: fewer requests.
      if (single && frame.length >= opt.packSize) {
        await launch(
          client.put(objectKey(hash), frame, { ifNoneMatch: true }).then(() => {
            result.singles++;
            result.bytes += frame.length;
            catalog.where.set(hash, { single: true, size: frame.length });
            tick(1, frame.length);
          }),
        );
        continue;
      }
      // Close the pack before it would pass the target: packs stay under it (one plain PUT each).
      if (pack.length > 0 && packBytes + frame.length > opt.packSize) await flush();
      pack.push({ hash, frame, size: sizes.get(hash)! });
      packBytes += frame.length;
    }
  }
  await flush();
  await Promise.all(inFlight);
}

async function uploadPack(client: RemoteClient, catalog: Catalog, items: Item[], result: PushResult): Promise<void> {
  const total = items.reduce((s, it) => s + it.frame.length, 0);
  const body = new Uint8Array(total);
  const entries: PackEntry[] = [];
  let off = 0;
  for (const it of items) {
    body.set(it.frame, off);
    entries.push([it.hash, off, it.frame.length, it.size]);
    off += it.frame.length;
  }
  const name = sha256(body);
  // The pack first, its index second: an index always describes a pack that is there.
  await client.put(packKey(name), body, { ifNoneMatch: true });
  const idx: PackIndex = { format: 'forge-pack-index', version: 1, pack: name, packSize: total, entries };
  const idxBytes = encodeJson(idx);
  const idxName = sha256(idxBytes);
  await client.put(indexKey(idxName), idxBytes, { ifNoneMatch: true });
  rememberIndex(catalog, idxName, idx);
  result.packs++;
  result.bytes += total + idxBytes.length;
}
