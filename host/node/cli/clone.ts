/**
 * `forge clone <remote> <dir>`: a new store (and, unless --no-checkout, the
 * tree) from a host's history on a remote, every object checked against its
 * SHA-256 before it is stored.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { CommandSpec } from './command.js';
import { indexFileOf, parseTime } from './open.js';
import { STORE_DIR_NAME } from './paths.js';
import { formatBytes, formatDuration } from '../term/output.js';
import { connectionOf, connectionOptions, connectRemote, describeRequests, transferProgress } from './remote.js';
import type { OriginState } from './pull.js';

export const spec: CommandSpec = {
  name: 'clone',
  summary: "Create a store (and the tree) from a host's history on a remote.",
  args: '<s3://bucket/prefix> <dir>',
  description: [
    "Reads the history one host pushed to the remote (--host, or the only host there), fetches every object it refers to, checks each one's SHA-256 before storing it (a mismatch is an integrity error and nothing from the bad data is written), and writes the versions into <dir>/.forge with the origin's version numbers. Then writes the newest version of every file into <dir>, unless --no-checkout. `forge log`, `restore` and `diff` then work in <dir> as on the origin; `forge pull` brings it up to date later.",
    '<dir> must be absent or empty. The remote is saved in the new store as "origin" (or --name). Credentials come from the AWS SDK default chain.',
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'name', description: 'The host whose history to clone (default: the only one).' },
    at: { type: 'string', valueName: 'time', description: 'Only versions recorded at or before <time> (ISO-8601, epoch ms, or an age like 2h).' },
    'no-checkout': { type: 'boolean', description: 'Create only the store, write no files.' },
    ...connectionOptions(),
    name: { type: 'string', valueName: 'remote', description: 'Name of the remote in the new store (default origin).' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: [
    'forge clone s3://forge-backups/team --endpoint http://127.0.0.1:7480 --path-style ~/restored --host laptop',
    'forge clone s3://forge-backups/team ./yesterday --at 1d --host laptop',
  ],
  async run(ctx) {
    const [url, dirArg] = ctx.positionals as [string, string];
    const atMs = typeof ctx.values['at'] === 'string' ? parseTime(ctx.values['at'], 'clone').getTime() : undefined;
    const { parseRemote, addRemote } = await import('../remote/spec.js');
    const remote = parseRemote(typeof ctx.values['name'] === 'string' ? ctx.values['name'] : 'origin', url, connectionOf(ctx.values));
    const dir = path.resolve(ctx.cwd, dirArg);
    let created = false;
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0) {
        throw new ForgeError('validation', `${dir} exists and is not an empty directory`, {
          context: { file: dir, operation: 'clone' },
          suggestions: ['Clone into a new or empty directory; use `forge pull` to update an existing clone.'],
        });
      }
    } else {
      fs.mkdirSync(dir, { recursive: true });
      created = true;
    }
    const storeDir = typeof ctx.values['store'] === 'string' ? path.resolve(ctx.cwd, ctx.values['store']) : path.join(dir, STORE_DIR_NAME);
    const client = await connectRemote(remote, ctx.stderr);
    let ok = false;
    try {
      const { ensureMarker } = await import('../remote/heads.js');
      const { chooseHost, fetchHistory } = await import('../remote/fetch.js');
      await ensureMarker(client, false);
      const host = await chooseHost(client, typeof ctx.values['host'] === 'string' ? ctx.values['host'] : undefined);
      const { Index } = await import('../index-db/index.js');
      const { openContentStore } = await import('../history/content-store.js');
      const index = await Index.open(indexFileOf(storeDir));
      const store = await openContentStore(storeDir);
      try {
        const progress = await transferProgress(ctx, 'clone');
        const r = await fetchHistory(client, index, store, host, null, { ...(atMs === undefined ? {} : { atMs }), onProgress: progress.update }).finally(
          progress.done,
        );
        if (r.versions === 0) {
          throw new ForgeError(
            'validation',
            `host ${host} has no versions${atMs !== undefined ? ` recorded at or before ${new Date(atMs).toISOString()}` : ''}`,
            {
              context: { operation: 'clone', host },
              suggestions: atMs !== undefined ? ['Pick a later --at.'] : ['Push from that host first.'],
            },
          );
        }
        await addRemote(index, remote);
        await index.setState('remote.origin', { remote: remote.name, host, segment: r.segment, seq: r.seq } satisfies OriginState);
        let files = 0;
        let bytes = 0;
        if (ctx.values['no-checkout'] !== true) ({ files, bytes } = await checkout(dir, store, r.applied));
        const { applied: _applied, ...summary } = r;
        if (ctx.values['json']) ctx.stdout.write(JSON.stringify({ ...summary, dir, files, fileBytes: bytes }) + '\n');
        else {
          ctx.stdout.write(
            `cloned ${host}: ${r.versions} versions, ${r.objects} objects (${formatBytes(r.bytes)} fetched), ${files} files written to ${dir}; ` +
              `${describeRequests(r.requests)}, ${formatDuration(r.ms)}\n`,
          );
        }
        ok = true;
        return 0;
      } finally {
        await store.close();
        await index.close();
      }
    } finally {
      client.close();
      // A failed clone leaves nothing behind: no store built from partial or bad data.
      if (!ok) {
        if (created) fs.rmSync(dir, { recursive: true, force: true });
        else {
          fs.rmSync(storeDir, { recursive: true, force: true });
          for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
        }
      }
    }
  },
};

/** Writes the newest version of each path (removed paths skipped) under `dir`. */
async function checkout(
  dir: string,
  store: import('../history/content-store.js').ContentStore,
  versions: ReadonlyArray<{ path: string; kind: string; hash: string | null; mode: number | null }>,
): Promise<{ files: number; bytes: number }> {
  const latest = new Map<string, (typeof versions)[number]>();
  for (const v of versions) latest.set(v.path, v);
  const live = [...latest.values()].filter((v) => v.kind !== 'removed' && v.hash !== null);
  let bytes = 0;
  const BATCH = 256;
  for (let i = 0; i < live.length; i += BATCH) {
    const part = live.slice(i, i + BATCH);
    const got = await store.getMany(part.map((v) => v.hash!));
    for (let k = 0; k < part.length; k++) {
      const r = got[k]!;
      if (!r.ok) throw r.error;
      const v = part[k]!;
      const dest = path.join(dir, ...v.path.split('/'));
      const rel = path.relative(dir, dest);
      if (rel.startsWith('..') || path.isAbsolute(rel) || rel.split(path.sep)[0] === STORE_DIR_NAME) {
        throw new ForgeError('integrity', `remote history names a path outside the tree: ${JSON.stringify(v.path)}`, { context: { operation: 'checkout' } });
      }
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, r.data, { mode: (v.mode ?? 0o644) & 0o7777 });
      bytes += r.data.length;
    }
  }
  return { files: live.length, bytes };
}
