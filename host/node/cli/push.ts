/** `forge push [remote]`: uploads the history recorded since the last push. */
import type { CommandContext, CommandSpec } from './command.js';
import { openIndex, openContent } from './open.js';
import { formatBytes, formatDuration, UsageError } from '../term/output.js';
import { connectRemote, describeRequests, sizeOption, transferProgress } from './remote.js';

export const spec: CommandSpec = {
  name: 'push',
  summary: 'Upload the history recorded since the last push to a remote.',
  args: '[remote]',
  description: [
    "Uploads the objects the remote lacks (small ones packed into immutable pack files, large ones as single objects; content any host pushed already is not sent again), then the versions recorded since this host last pushed as a new immutable segment, then moves this host's head with a conditional write. An interrupted push resumes without re-uploading what arrived.",
    "The remote defaults to the only one configured. The host name defaults to --host, FORGE_HOST, the name saved at the first push, else the machine's name. Credentials come from the AWS SDK default chain (environment, profile, instance role); Forge never stores them.",
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'name', description: 'Push as this host (saved for later pushes).' },
    'pack-size': { type: 'string', valueName: 'bytes', description: 'Pack size target, e.g. 16M (default 32 MiB).' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  examples: ['forge push', 'forge push backup', 'forge push backup --host laptop --json'],
  async run(ctx) {
    return runPush(ctx, ctx.positionals[0]);
  },
};

async function runPush(ctx: CommandContext, name: string | undefined): Promise<number> {
  const packSize = typeof ctx.values['pack-size'] === 'string' ? sizeOption(ctx.values['pack-size'], '--pack-size', 'push') : undefined;
  if (packSize !== undefined && packSize < 4096) throw new UsageError('--pack-size must be at least 4K', 'push');
  const opened = await openIndex(ctx);
  const { index } = opened;
  const { findRemote } = await import('../remote/spec.js');
  const { push, pushHost } = await import('../remote/push.js');
  const remote = await findRemote(index, name);
  const host = await pushHost(index, typeof ctx.values['host'] === 'string' ? ctx.values['host'] : undefined);
  const store = await openContent(opened);
  const client = await connectRemote(remote, ctx.stderr);
  const progress = await transferProgress(ctx, 'push');
  try {
    const r = await push(
      client,
      index,
      store,
      { host, storeDir: opened.storeDir },
      {
        ...(packSize !== undefined ? { packSize } : {}),
        onProgress: progress.update,
      },
    );
    progress.done();
    if (ctx.values['json']) ctx.stdout.write(JSON.stringify(r) + '\n');
    else if (r.upToDate) ctx.stdout.write(`${remote.name}: up to date (host ${host}, seq ${r.headSeq}); ${describeRequests(r.requests)}\n`);
    else {
      ctx.stdout.write(
        `pushed ${r.versions} versions to ${remote.name} as ${host}: ${r.objects} objects (${r.deduplicated} already there) in ${r.packs} packs + ${r.singles} single, ` +
          `${formatBytes(r.bytes)}, ${describeRequests(r.requests)}, ${formatDuration(r.ms)}\n`,
      );
    }
    return 0;
  } finally {
    progress.done();
    client.close();
    await store.close();
    await index.close();
  }
}
