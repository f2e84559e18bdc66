/**
 * The small mutable part of a remote: the format marker and each host's head,
 * written with conditional puts so that two writers never lose each other's
 * work, and the walk from a head back through its segments.
 */
import { ForgeError } from '../base/errors.js';
import type { RemoteClient } from './client.js';
import { decodeNamed, FORMAT, headKey, jsonBytes, MARKER_KEY, parseJson, segmentKey, type Head, type Segment } from './format.js';

/** Creates the format marker if absent, else checks it. */
export async function ensureMarker(client: RemoteClient, create = true): Promise<void> {
  const got = await client.get(MARKER_KEY);
  if (got) {
    const m = parseJson<{ format?: string; version?: number }>('marker', client.key(MARKER_KEY), got.body);
    if (m.format !== FORMAT.format || typeof m.version !== 'number' || m.version > FORMAT.version) {
      throw new ForgeError(
        'configuration',
        `s3://${client.spec.bucket}/${client.key(MARKER_KEY)} is not a Forge remote this version understands (${JSON.stringify(m)})`,
        {
          context: { operation: 'remote open', remote: client.spec.name },
          suggestions: ['Point the remote at an empty prefix, or upgrade forge-io.'],
        },
      );
    }
    return;
  }
  if (!create) {
    throw new ForgeError('validation', `s3://${client.spec.bucket}/${client.key('')} holds no Forge remote (no ${MARKER_KEY})`, {
      context: { operation: 'remote open', remote: client.spec.name },
      suggestions: ['Check the bucket and prefix; a remote is created by the first `forge push`.'],
    });
  }
  await client.put(MARKER_KEY, jsonBytes(FORMAT), { ifNoneMatch: true, contentType: 'application/json' });
}

/** The host's head with its ETag, or undefined before its first push. */
export async function readHead(client: RemoteClient, host: string): Promise<{ head: Head; etag: string } | undefined> {
  const got = await client.get(headKey(host));
  if (!got) return undefined;
  const head = parseJson<Head>('head', client.key(headKey(host)), got.body);
  if (head.format !== 'forge-head' || typeof head.segment !== 'string' || typeof head.seq !== 'number') {
    throw new ForgeError('integrity', `remote head ${client.key(headKey(host))} is malformed`, { context: { operation: 'read head', host } });
  }
  return { head, etag: got.etag };
}

/** Replaces the head only if it is still `etag` (or absent when undefined); false when someone else moved it. */
export async function writeHead(client: RemoteClient, host: string, head: Head, etag: string | undefined): Promise<boolean> {
  const body = jsonBytes(head);
  const out = await client.put(
    headKey(host),
    body,
    etag === undefined ? { ifNoneMatch: true, contentType: 'application/json' } : { ifMatch: etag, contentType: 'application/json' },
  );
  return out.ok;
}

/** Hosts that have pushed to this remote. */
export async function listHosts(client: RemoteClient): Promise<string[]> {
  const keys = await client.list('hosts/');
  const hosts = new Set<string>();
  for (const o of keys) {
    const m = /^hosts\/([^/]+)\/head\.json$/.exec(o.key);
    if (m) hosts.add(m[1]!);
  }
  return [...hosts].sort();
}

/**
 * The segments from `head` back to (not including) `stopAt`, oldest first,
 * each checked against its name.
 */
export async function readChain(
  client: RemoteClient,
  host: string,
  head: string,
  stopAt: string | null = null,
): Promise<Array<{ name: string; segment: Segment }>> {
  const out: Array<{ name: string; segment: Segment }> = [];
  let cur: string | null = head;
  while (cur !== null && cur !== stopAt) {
    const key = segmentKey(host, cur);
    const got = await client.get(key);
    if (!got) {
      throw new ForgeError('integrity', `remote segment ${client.key(key)} is missing (host ${host})`, {
        context: { operation: 'read history', host, file: client.key(key) },
        suggestions: ['Run `forge remote verify` for what it affects; push again from that host to rebuild its history.'],
      });
    }
    const segment: Segment = decodeNamed<Segment>('segment', client.key(key), cur, got.body);
    out.push({ name: cur, segment });
    cur = segment.prev;
  }
  if (stopAt !== null && cur !== stopAt) {
    throw new ForgeError('validation', `the history of host ${host} no longer contains segment ${stopAt}`, {
      context: { operation: 'pull', host },
      suggestions: ['The remote history was rewritten; clone it again into a new directory.'],
    });
  }
  return out.reverse();
}
