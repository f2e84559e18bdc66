/**
 * `forge gc`: prune old versions by policy, then remove unreferenced objects. Policy never erases
 * the last content of a file: `--keep` and `--keep-days` count content versions, and a deleted
 * file's last content goes only when `--prune-deleted` names deleted files.
 */
import type { PruneOptions } from '../index-db/index.js';
import type { DoomedVersion } from '../index-db/prune.js';
import type { CommandSpec } from './command.js';
import { openContent, openIndex } from './open.js';
import { formatBytes, UsageError } from '../term/output.js';

export const spec: CommandSpec = {
  name: 'gc',
  summary: 'Prune old versions by policy, then remove unreferenced objects.',
  args: '',
  description: [
    'With --keep N, keeps the N newest content versions of each file; with --keep-days D, keeps every version younger than D days; with both, a version survives if either keeps it.',
    'The newest content of every file always survives, also of files deleted since: removal records are not content and are never counted.',
    "--prune-deleted also removes the whole history of files that are deleted now (with --deleted-older-than D, only of those deleted more than D days ago): the only way a file's last content leaves the store.",
    'Then removes objects no remaining version refers to (objects younger than a minute are left alone, so a running `forge watch` is never raced), and interrupted writes older than an hour.',
    'Without a policy, only unreferenced objects are removed. --dry-run lists what would be removed and changes nothing, with any options.',
  ].join('\n'),
  options: {
    keep: { type: 'string', valueName: 'N', description: 'Keep the N newest content versions of each file (N >= 1).' },
    'keep-days': { type: 'string', valueName: 'D', description: 'Keep versions younger than D days (D >= 0, may be fractional).' },
    'prune-deleted': { type: 'boolean', description: 'Also remove the whole history of deleted files (their last content too).' },
    'deleted-older-than': { type: 'string', valueName: 'D', description: 'With --prune-deleted: only files deleted more than D days ago.' },
    'dry-run': { type: 'boolean', short: 'n', description: 'List what would be removed; change nothing.' },
  },
  minPositionals: 0,
  maxPositionals: 0,
  examples: [
    'forge gc --keep 10',
    'forge gc --keep-days 30',
    'forge gc --keep 5 --keep-days 7 --dry-run',
    'forge gc --prune-deleted --deleted-older-than 90 --dry-run',
    'forge gc',
  ],
  async run(ctx) {
    const policy = parsePolicy(ctx.values);
    const dryRun = ctx.values['dry-run'] === true;
    const opened = await openIndex(ctx);
    const { index } = opened;
    const store = await openContent(opened);
    try {
      const { assertIndexCoversStore } = await import('../store/rebuild.js');
      await assertIndexCoversStore(index, store);
      const keep = await index.referencedHashes();
      if (policy) {
        const plan = dryRun ? await index.planPrune(policy) : await index.prune(policy);
        if (dryRun) for (const v of plan.versions) ctx.stdout.write(`would remove ${describe(v)}\n`);
        for (const f of plan.filesForgotten) ctx.stdout.write(`${dryRun ? 'would forget' : 'forgot'} deleted file ${f}\n`);
        ctx.stdout.write(`${dryRun ? 'would prune' : 'pruned'} ${plan.versions.length} versions; ${plan.blobsReleased.length} contents no longer referenced\n`);
        if (dryRun) {
          // What the object pass would see after the prune: the released contents (and their manifests) unreferenced.
          for (const h of plan.blobsReleased) {
            keep.delete(h);
            const manifest = (await index.blob(h))?.manifest;
            if (manifest) keep.delete(manifest);
          }
        }
      }
      const report = await store.gc({ keep: dryRun || !policy ? keep : await index.referencedHashes(), dryRun });
      if (dryRun) for (const h of report.removedHashes) ctx.stdout.write(`would remove object ${h}\n`);
      ctx.stdout.write(
        `${dryRun ? 'would remove' : 'removed'} ${report.removed} objects (${formatBytes(report.removedBytes)}), ` +
          `${report.tmpRemoved} interrupted writes; kept ${report.kept}` +
          (report.skipped > 0 ? `; ${report.skipped} recent unreferenced objects left for a later gc` : '') +
          '\n',
      );
      return 0;
    } finally {
      await store.close();
      await index.close();
    }
  },
};

function describe(v: DoomedVersion): string {
  const what = v.hash === null ? 'removal record' : `content ${v.hash.slice(0, 12)}`;
  return `${v.path} version ${v.seq} (${new Date(v.timeMs).toISOString()}, ${what}${v.reason === 'deleted' ? ', file deleted' : ''})`;
}

function number(values: Record<string, unknown>, name: string, integer: boolean): number | undefined {
  const raw = values[name];
  if (typeof raw !== 'string') return undefined;
  const ok = integer ? /^\d+$/.test(raw) && Number(raw) >= 1 : /^\d+(\.\d+)?$/.test(raw);
  if (!ok) throw new UsageError(`--${name} must be ${integer ? 'an integer >= 1' : 'a number >= 0'}, got ${JSON.stringify(raw)}`, 'gc');
  return Number(raw);
}

/** The pruning policy the options ask for, or undefined for an objects-only gc. */
export function parsePolicy(values: Record<string, unknown>): PruneOptions | undefined {
  const keep = number(values, 'keep', true);
  const keepDays = number(values, 'keep-days', false);
  const deletedOlderThanDays = number(values, 'deleted-older-than', false);
  const pruneDeleted = values['prune-deleted'] === true;
  if (deletedOlderThanDays !== undefined && !pruneDeleted) throw new UsageError('--deleted-older-than goes with --prune-deleted', 'gc');
  if (keep === undefined && keepDays === undefined && !pruneDeleted) return undefined;
  return {
    ...(keep !== undefined ? { keep } : {}),
    ...(keepDays !== undefined ? { keepDays } : {}),
    ...(pruneDeleted ? { pruneDeleted } : {}),
    ...(deletedOlderThanDays !== undefined ? { deletedOlderThanDays } : {}),
  };
}
