/** `forge log <path>`: the recorded versions of one file, newest first. */
import type { CommandSpec } from './command.js';
import { formatBytes, renderTable } from '../term/output.js';
import { noHistory, openIndex, shortHash } from './open.js';
import { toTreePath } from './paths.js';

export const spec: CommandSpec = {
  name: 'log',
  summary: 'List the recorded versions of a file.',
  args: '<path>',
  description:
    'Prints one line per recorded version of <path>, newest first: seq (the version number other commands take), time, size, short hash and kind (created, modified, renamed, removed). <path> is relative to the current directory and must lie inside the watched tree.',
  options: {
    json: { type: 'boolean', description: 'Print a JSON array (oldest first) with full hashes and times in ms.' },
    limit: { type: 'string', short: 'n', valueName: 'count', description: 'Show only the newest <count> versions.' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['forge log src/index.ts', 'forge log src/index.ts --json | jq ".[-1].hash"', 'forge log -n 5 README.md'],
  async run(ctx) {
    const { root, index } = await openIndex(ctx);
    try {
      const treePath = toTreePath(root, ctx.cwd, ctx.positionals[0]!);
      const versions = await index.versions(treePath);
      if (versions.length === 0) throw noHistory(treePath, root);
      let shown = versions;
      const limit = ctx.values['limit'];
      if (typeof limit === 'string') {
        const n = Number(limit);
        if (!Number.isInteger(n) || n < 1) {
          const { UsageError } = await import('../term/output.js');
          throw new UsageError(`--limit must be an integer >= 1, got ${JSON.stringify(limit)}`, 'log');
        }
        shown = versions.slice(-n);
      }
      if (ctx.values['json']) {
        ctx.stdout.write(JSON.stringify(shown, null, 2) + '\n');
        return 0;
      }
      const rows = [...shown].reverse().map((v) => [
        String(v.seq),
        new Date(v.timeMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        v.size === null ? '-' : formatBytes(v.size),
        shortHash(v.hash),
        v.kind === 'renamed' && v.oldPath ? `renamed from ${v.oldPath}` : v.kind,
      ]);
      ctx.stdout.write(`${treePath}\n`);
      ctx.stdout.write(renderTable(['SEQ', 'TIME (UTC)', 'SIZE', 'HASH', 'KIND'], rows, [true, false, true, false, false]));
      return 0;
    } finally {
      await index.close();
    }
  },
};
