/** `forge pull`: brings a cloned store up to date with its remote. */
import { ForgeError } from '../base/errors.js';
import type { CommandSpec } from './command.js';
import { openContent, openIndex } from './open.js';
import { formatBytes, formatDuration } from '../term/output.js';
import { connectRemote, describeRequests, transferProgress } from './remote.js';

/** What `forge clone` remembers in the new store (index state `remote.origin`). */
export interface OriginState {
  remote: string;
  host: string;
  segment: string | null;
  seq: number;
}

export const spec: CommandSpec = {
  name: 'pull',
  summary: 'Bring a cloned store up to date with its remote.',
  args: '',
  description:
    "Fetches the versions the cloned host pushed since the clone (or the last pull) and the objects they need, verifying every object's SHA-256 before it is stored. The files in the tree are not touched; use `forge restore` for them.",
  options: {
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  minPositionals: 0,
  maxPositionals: 0,
  examples: ['forge pull', 'forge pull --json'],
  async run(ctx) {
    const opened = await openIndex(ctx);
    const { index } = opened;
    try {
      const origin = await index.getState<OriginState>('remote.origin');
      if (!origin) {
        throw new ForgeError('validation', `the store at ${opened.storeDir} was not cloned from a remote`, {
          context: { operation: 'pull' },
          suggestions: ["`forge pull` updates stores made by `forge clone`; to send this store's history, use `forge push`."],
        });
      }
      const { findRemote } = await import('../remote/spec.js');
      const { fetchHistory } = await import('../remote/fetch.js');
      const remote = await findRemote(index, origin.remote);
      const client = await connectRemote(remote, ctx.stderr);
      const store = await openContent(opened);
      try {
        const progress = await transferProgress(ctx, 'pull');
        const r = await fetchHistory(client, index, store, origin.host, { segment: origin.segment, seq: origin.seq }, { onProgress: progress.update }).finally(
          progress.done,
        );
        await index.setState('remote.origin', { ...origin, segment: r.segment, seq: r.seq } satisfies OriginState);
        const { applied: _applied, ...summary } = r;
        if (ctx.values['json']) ctx.stdout.write(JSON.stringify(summary) + '\n');
        else if (r.versions === 0) ctx.stdout.write(`${remote.name}: up to date (host ${origin.host}, seq ${r.seq})\n`);
        else
          ctx.stdout.write(
            `pulled ${r.versions} versions of ${origin.host}: ${r.objects} objects, ${formatBytes(r.bytes)}, ${describeRequests(r.requests)}, ${formatDuration(r.ms)}\n`,
          );
        return 0;
      } finally {
        client.close();
        await store.close();
      }
    } finally {
      await index.close();
    }
  },
};
