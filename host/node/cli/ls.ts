/** `forge ls [dir] [--at <time>]`: the files of the tree (or a directory of it) as they were at a time. */
import path from 'node:path';
import { filesAt } from '../index-db/queries.js';
import type { CommandSpec } from './command.js';
import { formatBytes, renderTable } from '../term/output.js';
import { formatTime } from '../term/time.js';
import { openIndex, parseTime, shortHash } from './open.js';
import { toTreePath } from './paths.js';

export const spec: CommandSpec = {
  name: 'ls',
  summary: 'List the files of the tree as they were at a time (default: now).',
  args: '[dir]',
  description: [
    'Prints one line per file that existed at <time> at or below <dir> (default: the whole tree): the seq of the version it had then, its time, size, short hash and path.',
    'Files removed by then are not listed. Times are local with their UTC offset (--utc: UTC).',
  ].join('\n'),
  options: {
    at: { type: 'string', valueName: 'time', description: 'The time: ISO-8601, epoch ms, or an age like 15m, 2h, 3d (default: now).' },
    json: { type: 'boolean', description: 'Print a JSON array with full hashes and times in ms.' },
    utc: { type: 'boolean', description: 'Print times in UTC.' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  examples: ['forge ls', 'forge ls src --at 2h', 'forge ls --at 2026-11-27T09:30 --json'],
  async run(ctx) {
    const atOpt = ctx.values['at'];
    const atMs = typeof atOpt === 'string' ? parseTime(atOpt, 'ls').getTime() : Date.now();
    const { root, index } = await openIndex(ctx, { forReading: true });
    try {
      const arg = ctx.positionals[0];
      const dir = arg === undefined || path.resolve(ctx.cwd, arg) === path.resolve(root) ? '' : toTreePath(root, ctx.cwd, arg);
      const files = await filesAt(index, dir, atMs);
      if (ctx.values['json']) {
        ctx.stdout.write(JSON.stringify(files, null, 2) + '\n');
        return 0;
      }
      if (files.length === 0) {
        ctx.stdout.write(`no files recorded under ${dir || 'the tree'} at ${formatTime(atMs, ctx.values['utc'] === true)}\n`);
        return 0;
      }
      const utc = ctx.values['utc'] === true;
      const rows = files.map((v) => [String(v.seq), formatTime(v.timeMs, utc), v.size === null ? '-' : formatBytes(v.size), shortHash(v.hash), v.path]);
      ctx.stdout.write(renderTable(['SEQ', utc ? 'TIME (UTC)' : 'TIME', 'SIZE', 'HASH', 'PATH'], rows, [true, false, true, false, false]));
      return 0;
    } finally {
      await index.close();
    }
  },
};
