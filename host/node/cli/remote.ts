/**
 * `forge remote add|list|remove|verify|gc`: the remotes a store pushes to
 * (kept in the store's index, credentials never), and checks and cleanup of
 * what is on them.
 */
import type { CommandContext, CommandSpec, OptionSpec } from './command.js';
import { openIndex } from './open.js';
import { formatBytes, renderTable, UsageError } from '../term/output.js';
import type { RemoteSpec } from '../remote/spec.js';
import type { RemoteClient, RequestCounts } from '../remote/client.js';

/** The options that say how to reach an S3 endpoint, shared by `remote add` and `clone` (`prefix` scopes the help). */
export function connectionOptions(prefix = ''): Record<string, OptionSpec> {
  const cap = (t: string) => (prefix ? t : t[0]!.toUpperCase() + t.slice(1));
  return {
    endpoint: { type: 'string', valueName: 'url', description: `${prefix}${cap('the S3 endpoint, e.g. http://127.0.0.1:7480 (default AWS).')}` },
    region: { type: 'string', valueName: 'region', description: `${prefix}${cap('the region (default AWS_REGION, else us-east-1).')}` },
    'path-style': { type: 'boolean', description: `${prefix}${cap('path-style addressing (RGW, MinIO).')}` },
  };
}

/** The connection settings given by {@link connectionOptions}. */
export function connectionOf(values: CommandContext['values']): { endpoint?: string; region?: string; pathStyle: boolean } {
  return {
    ...(typeof values['endpoint'] === 'string' ? { endpoint: values['endpoint'] } : {}),
    ...(typeof values['region'] === 'string' ? { region: values['region'] } : {}),
    pathStyle: values['path-style'] === true,
  };
}

/**
 * A progress bar for a transfer (push, clone, pull) on a terminal, none otherwise or with --json.
 * `update` takes the running totals the remote layer reports; `done` clears the bar.
 */
export async function transferProgress(
  ctx: CommandContext,
  label: string,
): Promise<{ update: (p: { objects: number; bytes: number; totalObjects: number }) => void; done: () => void }> {
  if (!ctx.stderr.isTTY || ctx.values['json']) return { update: () => {}, done: () => {} };
  const { Progress } = await import('../term/progress.js');
  const progress = new Progress({ label, stream: ctx.stderr });
  let seen = 0;
  let seenBytes = 0;
  return {
    update: (p) => {
      progress.setTotals(p.totalObjects, undefined);
      progress.tick(p.objects - seen, p.bytes - seenBytes);
      seen = p.objects;
      seenBytes = p.bytes;
    },
    done: () => progress.done(),
  };
}

/** Opens a client for `spec` (loads the AWS SDK); retries are reported on `stderr`, one line each. */
export async function connectRemote(spec: RemoteSpec, stderr?: NodeJS.WritableStream): Promise<RemoteClient> {
  const { RemoteClient } = await import('../remote/client.js');
  return RemoteClient.connect(spec, {
    retry: {
      logger: {
        warn: (_obj, msg) => {
          if (msg !== undefined) stderr?.write(`forge: ${msg}\n`);
        },
      },
    },
  });
}

/** `25 requests (18 PUT, 4 GET, 2 LIST, 1 HEAD)`. */
export function describeRequests(c: RequestCounts): string {
  const parts = [
    [c.puts, 'PUT'],
    [c.gets, 'GET'],
    [c.lists, 'LIST'],
    [c.heads, 'HEAD'],
    [c.deletes, 'DELETE'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, w]) => `${n} ${w}`);
  return `${c.requests} requests${parts.length ? ` (${parts.join(', ')})` : ''}${c.retries ? `, ${c.retries} retried` : ''}`;
}

/** Parses `16M`, `512K`, `1G` or a byte count. */
export function sizeOption(value: string, what: string, command: string): number {
  const m = /^(\d+)\s*([KMG]i?B?)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`${what} must be a size like 16M, 512K or a byte count; got ${JSON.stringify(value)}`, command);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  return Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? 1 << 20 : unit === 'G' ? 1 << 30 : 1);
}

/** Parses `30s`, `5m`, `2h`, `7d` or milliseconds. */
export function durationOption(value: string, what: string, command: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${what} must be a duration like 30s, 15m, 2h, 7d; got ${JSON.stringify(value)}`, command);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

/** `forge watch --push <remote> [--push-interval 30s]`, parsed. */
export function pushOption(ctx: CommandContext): { remote: string; intervalMs: number } | undefined {
  const remote = ctx.values['push'];
  const interval = ctx.values['push-interval'];
  if (typeof remote !== 'string') {
    if (interval !== undefined) throw new UsageError('--push-interval needs --push <remote>', 'watch');
    return undefined;
  }
  const intervalMs = typeof interval === 'string' ? durationOption(interval, '--push-interval', 'watch') : 30_000;
  if (intervalMs < 100) throw new UsageError('--push-interval must be at least 100ms', 'watch');
  return { remote, intervalMs };
}

const SUBCOMMANDS = ['add', 'list', 'remove', 'verify', 'gc'] as const;

export const spec: CommandSpec = {
  name: 'remote',
  summary: 'Manage remotes (S3-compatible storage): add, list, remove, verify, gc.',
  args: '<add|list|remove|verify|gc> [name] [s3://bucket/prefix]',
  description: [
    'forge remote add <name> s3://<bucket>/<prefix> [--endpoint URL] [--region R] [--path-style]: remembers a remote in this store. Credentials come from the AWS SDK default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws, instance roles) and are never stored.',
    'forge remote list / remove <name>: show or forget remotes (nothing on the remote is deleted).',
    'forge remote verify [name] [--sample N]: checks every pack index, segment and single object against its name, that every object a history refers to is there, and N packs (default all) byte for byte; reports what is missing or damaged and which versions it affects. Exits 1 when something is wrong.',
    "forge remote gc [name] [--grace 24h] [--dry-run]: deletes packs, objects and segments no host's history refers to, if older than the grace period, so a push in progress is never broken.",
  ].join('\n'),
  options: {
    ...connectionOptions('add: '),
    sample: { type: 'string', valueName: 'N', description: 'verify: download and check only N packs, chosen at random (default: all).' },
    grace: { type: 'string', valueName: 'age', description: 'gc: keep unreferenced files younger than this (default 24h).' },
    'dry-run': { type: 'boolean', short: 'n', description: 'gc: report, delete nothing.' },
    json: { type: 'boolean', description: 'list/verify/gc: print JSON.' },
  },
  minPositionals: 1,
  maxPositionals: 3,
  examples: [
    'forge remote add backup s3://forge-backups/laptop --endpoint http://127.0.0.1:7480 --path-style',
    'forge remote list',
    'forge remote verify backup --sample 10',
    'forge remote gc backup --grace 48h',
  ],
  async run(ctx) {
    const sub = ctx.positionals[0]!;
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown subcommand '${sub}' (expected ${SUBCOMMANDS.join(', ')})`, 'remote');
    const need = (n: number, what: string) => {
      if (ctx.positionals.length < n + 1) throw new UsageError(`missing argument: forge remote ${sub} ${what}`, 'remote');
    };
    const max = (n: number) => {
      if (ctx.positionals.length > n + 1) throw new UsageError(`too many arguments for 'remote ${sub}'`, 'remote');
    };
    const { index } = await openIndex(ctx);
    try {
      const specs = await import('../remote/spec.js');
      if (sub === 'add') {
        need(2, '<name> s3://<bucket>/<prefix>');
        max(2);
        const s = specs.parseRemote(ctx.positionals[1]!, ctx.positionals[2]!, connectionOf(ctx.values));
        await specs.addRemote(index, s);
        ctx.stdout.write(`added remote ${s.name}: ${specs.remoteUrl(s)}${s.endpoint ? ` at ${s.endpoint}` : ''}\n`);
        return 0;
      }
      if (sub === 'list') {
        max(0);
        const all = await specs.listRemotes(index);
        if (ctx.values['json']) ctx.stdout.write(JSON.stringify(all) + '\n');
        else if (all.length === 0) ctx.stdout.write('no remotes (add one with `forge remote add <name> s3://<bucket>/<prefix>`)\n');
        else
          ctx.stdout.write(
            renderTable(
              ['NAME', 'URL', 'ENDPOINT', 'REGION', 'STYLE'],
              all.map((r) => [r.name, specs.remoteUrl(r), r.endpoint ?? '(AWS)', r.region ?? '-', r.pathStyle ? 'path' : 'virtual-host']),
            ),
          );
        return 0;
      }
      if (sub === 'remove') {
        need(1, '<name>');
        max(1);
        const s = await specs.removeRemote(index, ctx.positionals[1]!);
        ctx.stdout.write(`removed remote ${s.name} (${specs.remoteUrl(s)}); nothing on it was deleted\n`);
        return 0;
      }
      max(1);
      const remote = await specs.findRemote(index, ctx.positionals[1]);
      const client = await connectRemote(remote, ctx.stderr);
      try {
        return sub === 'verify' ? await runVerify(ctx, client) : await runGc(ctx, client);
      } finally {
        client.close();
      }
    } finally {
      await index.close();
    }
  },
};

async function runVerify(ctx: CommandContext, client: RemoteClient): Promise<number> {
  const sampleOpt = ctx.values['sample'];
  let sample: number | undefined;
  if (typeof sampleOpt === 'string') {
    if (!/^\d+$/.test(sampleOpt)) throw new UsageError(`--sample must be an integer >= 0, got ${JSON.stringify(sampleOpt)}`, 'remote');
    sample = Number(sampleOpt);
  }
  const { verifyRemote } = await import('../remote/maintain.js');
  const r = await verifyRemote(client, sample === undefined ? {} : { sample });
  if (ctx.values['json']) ctx.stdout.write(JSON.stringify(r) + '\n');
  else {
    for (const p of r.problems)
      ctx.stdout.write(
        `${p.kind}: ${p.key}: ${p.detail}${p.affects.length ? `; affects ${p.affects.slice(0, 5).join(', ')}${p.affects.length > 5 ? ` and ${p.affects.length - 5} more` : ''}` : ''}\n`,
      );
    ctx.stdout.write(
      `${r.problems.length === 0 ? 'ok' : `${r.problems.length} problem(s)`}: ${r.hosts} host(s), ${r.segments} segments, ${r.versions} versions, ` +
        `${r.indexes} pack indexes, ${r.packsChecked}/${r.packs} packs and ${r.singles} single objects checked, ${r.objects} objects referenced; ${describeRequests(r.requests)}\n`,
    );
  }
  return r.problems.length === 0 ? 0 : 1;
}

async function runGc(ctx: CommandContext, client: RemoteClient): Promise<number> {
  const graceMs = typeof ctx.values['grace'] === 'string' ? durationOption(ctx.values['grace'], '--grace', 'remote') : 24 * 3_600_000;
  const { gcRemote } = await import('../remote/maintain.js');
  const r = await gcRemote(client, { graceMs, dryRun: ctx.values['dry-run'] === true });
  if (ctx.values['json']) ctx.stdout.write(JSON.stringify(r) + '\n');
  else {
    ctx.stdout.write(
      `${r.dryRun ? 'would delete' : 'deleted'} ${r.packs} packs, ${r.indexes} indexes, ${r.singles} single objects, ${r.segments} segments (${formatBytes(r.bytes)}); ` +
        `kept ${r.keptYoung} unreferenced file(s) younger than the grace period; ${describeRequests(r.requests)}\n`,
    );
  }
  return 0;
}
