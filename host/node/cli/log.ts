/** `forge log [path]`: recorded versions, newest first — of one file, of a directory, or of the whole tree. */
import type { VersionRecord } from '../index-db/index.js';
import { recentVersions } from '../index-db/queries.js';
import type { CommandSpec } from './command.js';
import { formatBytes, renderTable, UsageError } from '../term/output.js';
import { formatTime } from '../term/time.js';
import { noHistory, openIndex, parseTime, shortHash } from './open.js';
import { toTreePath } from './paths.js';
import * as fs from 'node:fs';
import path from 'node:path';

export const spec: CommandSpec = {
  name: 'log',
  summary: 'List recorded versions: of a file, a directory, or the whole tree.',
  args: '[path]',
  description: [
    'Prints one line per recorded version, newest first: seq (the version number other commands take), time, size, short hash, kind (created, modified, renamed, removed) and, for a directory or the whole tree, the path.',
    'Without <path>: the whole tree. <path> is relative to the current directory and must lie inside the watched tree.',
    'Times are local with their UTC offset (--utc: UTC).',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'Print a JSON array (oldest first, as recorded) with full hashes and times in ms.' },
    limit: { type: 'string', short: 'n', valueName: 'count', description: 'Show only the newest <count> versions.' },
    since: { type: 'string', valueName: 'time', description: 'Only versions recorded at or after <time> (ISO-8601, epoch ms, or an age like 2h, 3d).' },
    utc: { type: 'boolean', description: 'Print times in UTC.' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  examples: ['forge log', 'forge log -n 20 --since 1d', 'forge log src/index.ts', 'forge log src --json | jq ".[0].hash"'],
  async run(ctx) {
    const limitOpt = ctx.values['limit'];
    let limit: number | undefined;
    if (typeof limitOpt === 'string') {
      limit = Number(limitOpt);
      if (!/^\d+$/.test(limitOpt) || limit < 1) throw new UsageError(`--limit must be an integer >= 1, got ${JSON.stringify(limitOpt)}`, 'log');
    }
    const sinceOpt = ctx.values['since'];
    const sinceMs = typeof sinceOpt === 'string' ? parseTime(sinceOpt, 'log').getTime() : undefined;
    const utc = ctx.values['utc'] === true;
    const { root, index } = await openIndex(ctx, { forReading: true });
    try {
      const arg = ctx.positionals[0];
      const treePath = arg === undefined || path.resolve(ctx.cwd, arg) === path.resolve(root) ? '' : toTreePath(root, ctx.cwd, arg);
      let shown: VersionRecord[] = [];
      let single = false;
      if (treePath !== '') {
        shown = await index.versions(treePath);
        single = shown.length > 0;
        if (single) {
          if (sinceMs !== undefined) shown = shown.filter((v) => v.timeMs >= sinceMs);
          shown = shown.reverse();
          if (limit !== undefined) shown = shown.slice(0, limit);
        }
      }
      if (!single) {
        shown = await recentVersions(index, { dir: treePath, ...(limit !== undefined ? { limit } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}) });
        const isDir = treePath === '' || isDirectory(path.join(root, ...treePath.split('/')));
        if (shown.length === 0 && treePath !== '' && !isDir) throw noHistory(treePath, root);
      }
      if (ctx.values['json']) {
        ctx.stdout.write(JSON.stringify([...shown].reverse(), null, 2) + '\n');
        return 0;
      }
      const rows = shown.map((v) => [
        String(v.seq),
        formatTime(v.timeMs, utc),
        v.size === null ? '-' : formatBytes(v.size),
        shortHash(v.hash),
        v.kind === 'renamed' && v.oldPath ? `renamed from ${v.oldPath}` : v.kind,
        ...(single ? [] : [v.path]),
      ]);
      const header = ['SEQ', utc ? 'TIME (UTC)' : 'TIME', 'SIZE', 'HASH', 'KIND', ...(single ? [] : ['PATH'])];
      if (single) ctx.stdout.write(`${treePath}\n`);
      if (rows.length === 0) ctx.stdout.write('no versions recorded' + (sinceMs !== undefined ? ' since then' : '') + '\n');
      else ctx.stdout.write(renderTable(header, rows, [true, false, true, false, false, false]));
      return 0;
    } finally {
      await index.close();
    }
  },
};

function isDirectory(abs: string): boolean {
  try {
    return fs.statSync(abs).isDirectory();
  } catch {
    return false;
  }
}
