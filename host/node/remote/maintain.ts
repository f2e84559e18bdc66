/**
 * `forge remote verify` and `forge remote gc`: both read every host's
 * history; verify checks each file against its name and reports what is
 * missing or damaged with the versions it affects; gc deletes what no
 * history refers to, once it is older than a grace period.
 */
import { ForgeError } from '../base/errors.js';
import type { RemoteClient, RequestCounts } from './client.js';
import { decodeNamed, decodeObject, indexKey, MARKER_KEY, objectKey, packKey, segmentKey, sha256, type PackIndex, type Segment } from './format.js';
import { listHosts, readHead } from './heads.js';

export interface Problem {
  kind: 'missing' | 'damaged';
  key: string;
  detail: string;
  /** Versions affected, as `host:path@seq`. */
  affects: string[];
}

export interface VerifyReport {
  hosts: number;
  segments: number;
  versions: number;
  indexes: number;
  packs: number;
  packsChecked: number;
  singles: number;
  objects: number;
  problems: Problem[];
  requests: RequestCounts;
}

/** A pack index as read from the remote: decoded, or the reason it could not be (gone meanwhile: skipped). */
type ReadIndex<L> = { name: string; listed: L } & ({ idx: PackIndex; error?: undefined } | { idx?: undefined; error: string });

/** Reads and decodes every listed pack index in turn; verify reports the damaged ones, gc leaves them. */
async function* readPackIndexes<L extends { key: string }>(client: RemoteClient, listed: L[]): AsyncGenerator<ReadIndex<L>> {
  for (const o of listed) {
    const name = o.key.slice(6);
    const got = await client.get(indexKey(name));
    if (!got) continue;
    try {
      yield { name, listed: o, idx: decodeNamed<PackIndex>('pack index', client.key(indexKey(name)), name, got.body) };
    } catch (e) {
      yield { name, listed: o, error: (e as Error).message };
    }
  }
}

interface Histories {
  /** content hash → versions referring to it. */
  refs: Map<string, string[]>;
  /** host → reachable segment names. */
  segments: Map<string, Set<string>>;
  versions: number;
  problems: Problem[];
}

async function readHistories(client: RemoteClient): Promise<Histories> {
  const h: Histories = { refs: new Map(), segments: new Map(), versions: 0, problems: [] };
  for (const host of await listHosts(client)) {
    const reach = new Set<string>();
    h.segments.set(host, reach);
    const head = await readHead(client, host);
    let cur: string | null = head?.head.segment ?? null;
    while (cur !== null) {
      const key = segmentKey(host, cur);
      const got = await client.get(key);
      if (!got) {
        h.problems.push({
          kind: 'missing',
          key: client.key(key),
          detail: `segment of host ${host} is missing: its versions and all older ones are unreadable`,
          affects: [`${host}:*`],
        });
        break;
      }
      let seg: Segment;
      try {
        seg = decodeNamed<Segment>('segment', client.key(key), cur, got.body);
      } catch (e) {
        h.problems.push({ kind: 'damaged', key: client.key(key), detail: (e as Error).message, affects: [`${host}:*`] });
        break;
      }
      reach.add(cur);
      for (const v of seg.versions) {
        h.versions++;
        if (v.hash === null) continue;
        let list = h.refs.get(v.hash);
        if (!list) h.refs.set(v.hash, (list = []));
        list.push(`${host}:${v.path}@${v.seq}`);
      }
      cur = seg.prev;
    }
  }
  return h;
}

function pickSample<T>(items: T[], n: number | undefined): T[] {
  if (n === undefined || n >= items.length) return items;
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/**
 * Checks a remote. `sample`: how many packs (and single objects) to download
 * and check byte for byte (default all); indexes and segments are always all read.
 *
 * @example
 * ```ts
 * const r = await verifyRemote(client, { sample: 10 });
 * if (r.problems.length) console.log(r.problems);
 * ```
 */
export async function verifyRemote(client: RemoteClient, options: { sample?: number } = {}): Promise<VerifyReport> {
  const problems: Problem[] = [];
  if (!(await client.head(MARKER_KEY)))
    problems.push({ kind: 'missing', key: client.key(MARKER_KEY), detail: 'format marker missing (is this a Forge remote?)', affects: [] });
  const hist = await readHistories(client);
  problems.push(...hist.problems);
  const affects = (hashes: Iterable<string>) => [...hashes].flatMap((x) => hist.refs.get(x) ?? []);
  const [indexList, packList, singleList] = await Promise.all([client.list('index/'), client.list('packs/'), client.list('objects/')]);
  const packs = new Map(packList.map((o) => [o.key.slice(6), o.size]));
  const present = new Set<string>();
  const packEntries = new Map<string, PackIndex>();
  for await (const { name, idx, error } of readPackIndexes(client, indexList)) {
    if (!idx) {
      problems.push({ kind: 'damaged', key: client.key(indexKey(name)), detail: error, affects: [] });
      continue;
    }
    const size = packs.get(idx.pack);
    if (size === undefined) {
      problems.push({
        kind: 'missing',
        key: client.key(packKey(idx.pack)),
        detail: `pack named by index ${name} is missing`,
        affects: affects(idx.entries.map((e) => e[0])),
      });
      continue;
    }
    if (size !== idx.packSize) {
      problems.push({
        kind: 'damaged',
        key: client.key(packKey(idx.pack)),
        detail: `size ${size}, its index says ${idx.packSize}`,
        affects: affects(idx.entries.map((e) => e[0])),
      });
      continue;
    }
    packEntries.set(idx.pack, idx);
    for (const e of idx.entries) present.add(e[0]);
  }
  const checked = pickSample([...packEntries.values()], options.sample);
  for (const idx of checked) {
    const key = packKey(idx.pack);
    const got = await client.get(key);
    if (!got) continue;
    const actual = sha256(got.body);
    if (actual !== idx.pack) {
      problems.push({ kind: 'damaged', key: client.key(key), detail: `its SHA-256 is ${actual}`, affects: affects(idx.entries.map((e) => e[0])) });
      for (const e of idx.entries) present.delete(e[0]);
      continue;
    }
    for (const [hash, off, len] of idx.entries) {
      try {
        decodeObject(got.body.subarray(off, off + len), hash, client.key(key));
      } catch (e) {
        problems.push({ kind: 'damaged', key: `${client.key(key)}#${hash}`, detail: (e as Error).message, affects: affects([hash]) });
        present.delete(hash);
      }
    }
  }
  const singles = singleList.map((o) => o.key.slice(8));
  for (const s of singles) present.add(s);
  for (const hash of pickSample(singles, options.sample)) {
    const got = await client.get(objectKey(hash));
    if (!got) continue;
    try {
      decodeObject(got.body, hash, client.key(objectKey(hash)));
    } catch (e) {
      problems.push({ kind: 'damaged', key: client.key(objectKey(hash)), detail: (e as Error).message, affects: affects([hash]) });
      present.delete(hash);
    }
  }
  for (const [hash, refs] of hist.refs) {
    if (!present.has(hash) && !problems.some((p) => p.key.endsWith(hash))) {
      problems.push({ kind: 'missing', key: hash, detail: 'object referenced by a history is in no pack index and no single object', affects: refs });
    }
  }
  let segments = 0;
  for (const s of hist.segments.values()) segments += s.size;
  return {
    hosts: hist.segments.size,
    segments,
    versions: hist.versions,
    indexes: indexList.length,
    packs: packs.size,
    packsChecked: checked.length,
    singles: singles.length,
    objects: hist.refs.size,
    problems,
    requests: client.counts,
  };
}

export interface GcReport {
  dryRun: boolean;
  packs: number;
  indexes: number;
  singles: number;
  segments: number;
  bytes: number;
  /** Unreferenced files left because they are younger than the grace period. */
  keptYoung: number;
  requests: RequestCounts;
}

/**
 * Deletes packs (with their indexes), single objects and segments that no
 * host's history refers to and that are older than `graceMs`. A pack with
 * any referenced object is kept whole. Refuses to run while a history is unreadable.
 *
 * @example
 * ```ts
 * await gcRemote(client, { graceMs: 24 * 3600_000 });
 * ```
 */
export async function gcRemote(client: RemoteClient, options: { graceMs: number; dryRun?: boolean; nowMs?: number }): Promise<GcReport> {
  const dryRun = options.dryRun === true;
  const cutoff = (options.nowMs ?? Date.now()) - options.graceMs;
  const hist = await readHistories(client);
  if (hist.problems.length) {
    throw new ForgeError('integrity', `remote gc refused: a host's history is unreadable (${hist.problems[0]!.key})`, {
      context: { operation: 'remote gc' },
      suggestions: ['Run `forge remote verify` and repair the history first; gc never deletes while it cannot see every reference.'],
    });
  }
  const r: GcReport = { dryRun, packs: 0, indexes: 0, singles: 0, segments: 0, bytes: 0, keptYoung: 0, requests: client.counts };
  const [indexList, packList, singleList, hostFiles] = await Promise.all([
    client.list('index/'),
    client.list('packs/'),
    client.list('objects/'),
    client.list('hosts/'),
  ]);
  const packs = new Map(packList.map((o) => [o.key.slice(6), o]));
  const del = async (key: string, size: number, what: 'packs' | 'indexes' | 'singles' | 'segments') => {
    if (!dryRun) await client.delete(key);
    r[what]++;
    r.bytes += size;
  };
  const indexed = new Set<string>();
  for await (const { name, idx, listed: o } of readPackIndexes(client, indexList)) {
    if (!idx) continue; // a damaged index is verify's to report, not gc's to delete
    indexed.add(idx.pack);
    if (idx.entries.some((e) => hist.refs.has(e[0]))) continue;
    const pack = packs.get(idx.pack);
    if (o.lastModifiedMs > cutoff || (pack && pack.lastModifiedMs > cutoff)) {
      r.keptYoung++;
      continue;
    }
    // The index first: an index never names a pack that is gone.
    await del(indexKey(name), o.size, 'indexes');
    if (pack) await del(packKey(idx.pack), pack.size, 'packs');
  }
  for (const [name, o] of packs) {
    if (indexed.has(name)) continue;
    if (o.lastModifiedMs > cutoff) r.keptYoung++;
    else await del(packKey(name), o.size, 'packs'); // left by an interrupted push
  }
  for (const o of singleList) {
    const hash = o.key.slice(8);
    if (hist.refs.has(hash)) continue;
    if (o.lastModifiedMs > cutoff) r.keptYoung++;
    else await del(objectKey(hash), o.size, 'singles');
  }
  for (const o of hostFiles) {
    const m = /^hosts\/([^/]+)\/segments\/([0-9a-f]{64})$/.exec(o.key);
    if (!m || hist.segments.get(m[1]!)?.has(m[2]!)) continue;
    if (o.lastModifiedMs > cutoff) r.keptYoung++;
    else await del(segmentKey(m[1]!, m[2]!), o.size, 'segments');
  }
  return r;
}
