/** `forge gc [--keep N | --keep-days D]`: prune old versions by policy, then remove unreferenced objects. */
import { ForgeError } from '../base/errors.js';
import type { CommandSpec } from './command.js';
import { openContent, openIndex } from './open.js';
import { formatBytes, UsageError } from '../term/output.js';

export const spec: CommandSpec = {
  name: 'gc',
  summary: 'Prune old versions by policy, then remove unreferenced objects.',
  args: '',
  description: [
    'With --keep N, keeps the N newest versions of each file; with --keep-days D, keeps every version younger than D days; with both, a version survives if either keeps it. The newest version of every file always survives.',
    'Then removes objects no remaining version refers to (objects younger than a minute are left alone, so a running `forge watch` is never raced), and interrupted writes older than an hour.',
    'Without a policy, only unreferenced objects are removed. --dry-run reports without removing anything.',
  ].join('\n'),
  options: {
    keep: { type: 'string', valueName: 'N', description: 'Keep the N newest versions of each file (N >= 1).' },
    'keep-days': { type: 'string', valueName: 'D', description: 'Keep versions younger than D days (D >= 0, may be fractional).' },
    'dry-run': { type: 'boolean', short: 'n', description: 'Show what would be removed; change nothing.' },
  },
  minPositionals: 0,
  maxPositionals: 0,
  examples: ['forge gc --keep 10', 'forge gc --keep-days 30', 'forge gc --keep 5 --keep-days 7 --dry-run', 'forge gc'],
  async run(ctx) {
    const keepOpt = ctx.values['keep'];
    const daysOpt = ctx.values['keep-days'];
    let keep: number | undefined;
    let keepDays: number | undefined;
    if (typeof keepOpt === 'string') {
      keep = Number(keepOpt);
      if (!/^\d+$/.test(keepOpt) || keep < 1) throw new UsageError(`--keep must be an integer >= 1, got ${JSON.stringify(keepOpt)}`, 'gc');
    }
    if (typeof daysOpt === 'string') {
      keepDays = Number(daysOpt);
      if (!/^\d+(\.\d+)?$/.test(daysOpt)) throw new UsageError(`--keep-days must be a number >= 0, got ${JSON.stringify(daysOpt)}`, 'gc');
    }
    const dryRun = ctx.values['dry-run'] === true;
    if (dryRun && (keep !== undefined || keepDays !== undefined)) {
      throw new ForgeError('validation', '--dry-run with a pruning policy is not supported: pruning versions cannot be previewed yet', {
        context: { operation: 'gc' },
        suggestions: ['Run `forge gc --dry-run` (objects only), or inspect versions with `forge log <path>` first.'],
      });
    }
    const opened = await openIndex(ctx);
    const { index } = opened;
    const store = await openContent(opened);
    try {
      const { assertIndexCoversStore } = await import('../store/rebuild.js');
      await assertIndexCoversStore(index, store);
      if (keep !== undefined || keepDays !== undefined) {
        const r = await index.prune({ ...(keep !== undefined ? { keep } : {}), ...(keepDays !== undefined ? { keepDays } : {}) });
        ctx.stdout.write(`pruned ${r.versionsRemoved} versions; ${r.blobsReleased.length} contents no longer referenced\n`);
      }
      const report = await store.gc({ keep: await index.referencedHashes(), dryRun });
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
