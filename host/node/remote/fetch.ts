/**
 * `forge clone` / `forge pull`: reads a host's history from a remote, fetches
 * the objects it refers to (whole packs; every object needed from a pack is
 * taken from one download), checks every object against its SHA-256 before anything is stored,
 * and writes the versions into the local index with their original seqs.
 */
import { ForgeError } from '../base/errors.js';
import type { Index } from '../index-db/index.js';
import type { BlobStore } from '../store/blob-store.js';
import { loadCatalog } from './catalog.js';
import type { RemoteClient, RequestCounts } from './client.js';
import { decodeObject, integrity, objectKey, packKey, sha256, type SegmentVersion } from './format.js';
import { listHosts, readChain, readHead } from './heads.js';
import { importVersions, type BlobFacts } from './history-rows.js';

export interface FetchOptions {
  /** Only versions recorded at or before this time. */
  atMs?: number;
  /** Objects downloading at once (default 4). */
  concurrency?: number;
  onProgress?: (p: { objects: number; bytes: number; totalObjects: number }) => void;
}

export interface FetchResult {
  host: string;
  versions: number;
  objects: number;
  bytes: number;
  /** The newest segment applied (for the next pull). */
  segment: string | null;
  seq: number;
  requests: RequestCounts;
  ms: number;
  /** The versions applied, oldest first. */
  applied: SegmentVersion[];
}

/** The host to read: `given`, else the only one on the remote. */
export async function chooseHost(client: RemoteClient, given: string | undefined): Promise<string> {
  const hosts = await listHosts(client);
  if (given !== undefined) {
    if (!hosts.includes(given)) {
      throw new ForgeError('validation', `remote '${client.spec.name}' has no host '${given}'`, {
        context: { operation: 'clone', host: given },
        suggestions: [hosts.length ? `Hosts on it: ${hosts.join(', ')}.` : 'Nothing has been pushed to it yet.'],
      });
    }
    return given;
  }
  if (hosts.length === 1) return hosts[0]!;
  throw new ForgeError(
    'validation',
    hosts.length === 0
      ? `remote '${client.spec.name}' holds no history yet`
      : `remote '${client.spec.name}' holds several hosts (${hosts.join(', ')}); choose one with --host`,
    {
      context: { operation: 'clone' },
      suggestions: hosts.length === 0 ? ['Push to it first: `forge push <remote>`.'] : [`e.g. --host ${hosts[0]}`],
    },
  );
}

/**
 * Brings `index`/`store` up to the host's head (from `since`, the last segment
 * applied, or from the start).
 *
 * @example
 * ```ts
 * const r = await fetchHistory(client, index, store, 'laptop', null);
 * console.log(`${r.versions} versions, ${r.objects} objects`);
 * ```
 */
export async function fetchHistory(
  client: RemoteClient,
  index: Index,
  store: BlobStore,
  host: string,
  since: { segment: string | null; seq: number } | null,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const t0 = performance.now();
  const head = await readHead(client, host);
  const result: FetchResult = {
    host,
    versions: 0,
    objects: 0,
    bytes: 0,
    segment: since?.segment ?? null,
    seq: since?.seq ?? 0,
    requests: client.counts,
    ms: 0,
    applied: [],
  };
  if (!head || head.head.segment === since?.segment) {
    result.ms = performance.now() - t0;
    return result;
  }
  const chain = await readChain(client, host, head.head.segment, since?.segment ?? null);
  const afterSeq = since?.seq ?? 0;
  const at = options.atMs ?? Infinity;
  const wanted = (v: SegmentVersion) => v.seq > afterSeq && v.timeMs <= at;
  const versions = chain.flatMap((c) => c.segment.versions.filter(wanted));
  // The newest segment taken whole: a later pull starts there and skips seqs already applied.
  let lastSegment = since?.segment ?? null;
  for (const c of chain) {
    if (!c.segment.versions.every((v) => v.timeMs <= at)) break;
    lastSegment = c.name;
  }
  const needed = new Map<string, number>();
  for (const v of versions) if (v.hash !== null && !(await store.has(v.hash))) needed.set(v.hash, v.size ?? 0);
  const facts = await fetchObjects(client, store, needed, options, result);
  // Content the store had already: its facts from the store itself.
  for (const v of versions) {
    if (v.hash === null || facts.has(v.hash)) continue;
    const st = await store.stat(v.hash);
    if (!st) throw new ForgeError('unknown', `internal: ${v.hash} vanished from the store`, { context: { operation: 'clone' } });
    facts.set(v.hash, { storedSize: st.storedSize, chunks: st.chunks, ...(st.manifest ? { manifest: st.manifest } : {}) });
  }
  await importVersions(index, versions, facts);
  result.versions = versions.length;
  result.applied = versions;
  result.segment = lastSegment;
  if (versions.length) result.seq = versions[versions.length - 1]!.seq;
  result.ms = performance.now() - t0;
  return result;
}

async function fetchObjects(
  client: RemoteClient,
  store: BlobStore,
  needed: Map<string, number>,
  options: FetchOptions,
  result: FetchResult,
): Promise<Map<string, BlobFacts>> {
  const facts = new Map<string, BlobFacts>();
  if (needed.size === 0) return facts;
  const catalog = await loadCatalog(client);
  const byPack = new Map<string, Array<{ hash: string; offset: number; length: number }>>();
  const singles: string[] = [];
  const lost: string[] = [];
  for (const hash of needed.keys()) {
    const loc = catalog.where.get(hash);
    if (!loc) lost.push(hash);
    else if ('single' in loc) singles.push(hash);
    else {
      let list = byPack.get(loc.pack);
      if (!list) byPack.set(loc.pack, (list = []));
      list.push({ hash, offset: loc.offset, length: loc.length });
    }
  }
  if (lost.length) {
    throw new ForgeError('integrity', `remote '${client.spec.name}' lacks ${lost.length} object(s) the history refers to (first: ${lost[0]})`, {
      context: { operation: 'clone', missing: lost.slice(0, 20) },
      suggestions: ['Run `forge remote verify` for what it affects; push again from a host that has them.'],
    });
  }
  const store1 = async (contents: Array<{ hash: string; data: Uint8Array }>) => {
    const put = await store.putMany(contents.map((c) => c.data));
    put.forEach((r, i) => {
      if (!r.ok) throw r.error;
      if (r.hash !== contents[i]!.hash) throw integrity('object', contents[i]!.hash, 'stored under another hash');
      facts.set(r.hash, { storedSize: r.storedBytes, chunks: r.chunks, ...(r.manifest ? { manifest: r.manifest } : {}) });
    });
    result.objects += contents.length;
    options.onProgress?.({ objects: result.objects, bytes: client.counts.bytesDown, totalObjects: needed.size });
  };
  const jobs: Array<() => Promise<void>> = [];
  for (const [pack, list] of byPack) {
    jobs.push(async () => {
      const key = packKey(pack);
      const got = await client.get(key);
      if (!got) throw integrity('pack', client.key(key), 'it is missing');
      // The whole pack must match its name before any object from it is stored.
      const actual = sha256(got.body);
      if (actual !== pack) throw integrity('pack', client.key(key), `its SHA-256 is ${actual}`);
      const contents = list.map((e) => ({ hash: e.hash, data: decodeObject(got.body.subarray(e.offset, e.offset + e.length), e.hash, client.key(key)) }));
      result.bytes += got.body.length;
      await store1(contents);
    });
  }
  for (const hash of singles) {
    jobs.push(async () => {
      const key = objectKey(hash);
      const got = await client.get(key);
      if (!got) throw integrity('object', client.key(key), 'it is missing');
      const data = decodeObject(got.body, hash, client.key(key));
      result.bytes += got.body.length;
      await store1([{ hash, data }]);
    });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 4, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return facts;
}
