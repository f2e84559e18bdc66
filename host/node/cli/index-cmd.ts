/** `forge index rebuild [--force]`: a new index from what the store's objects tell, saying what is lost. */
import type { CommandSpec } from './command.js';
import { indexFileOf, openContent } from './open.js';
import { locate, requireStore } from './paths.js';
import { formatBytes, UsageError } from '../term/output.js';
import { lockStore } from '../history/store-lock.js';

export const spec: CommandSpec = {
  name: 'index',
  summary: 'Rebuild a lost or damaged index from the store (forge index rebuild).',
  args: 'rebuild',
  description: [
    'rebuild: reads every object of the store and records each content it holds (whole objects, and chunked files through their manifests) as a version of lost+found/<sha256>, so it can be listed, restored and is kept by gc.',
    'The objects cannot tell which paths held a content or when: those are lost, and the command says so. A previous index is moved aside (index.db.before-rebuild-<time>), never deleted.',
    'An index that still holds versions is refused unless --force. Stop `forge watch` for this tree first.',
  ].join('\n'),
  options: {
    force: { type: 'boolean', description: 'Rebuild even though the index holds versions (it is kept aside).' },
    json: { type: 'boolean', description: 'Print the report as JSON.' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['forge index rebuild', 'forge index rebuild --force --json'],
  async run(ctx) {
    if (ctx.positionals[0] !== 'rebuild')
      throw new UsageError(`unknown index subcommand ${JSON.stringify(ctx.positionals[0])}; the only one is \`rebuild\``, 'index');
    const loc = locate(ctx);
    requireStore(loc);
    const { rebuildIndex } = await import('../store/rebuild.js');
    // A running `forge watch` writes into the index this moves aside: its new versions would be lost.
    // Holding the daemon's lock makes the two exclusive (a daemon started meanwhile is refused too).
    const unlock = lockStore(loc.storeDir);
    const store = await openContent(loc).catch((e: unknown) => {
      unlock();
      throw e;
    });
    try {
      const r = await rebuildIndex(store, indexFileOf(loc.storeDir), { force: ctx.values['force'] === true });
      if (ctx.values['json']) {
        ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      } else {
        ctx.stdout.write(`index rebuilt: ${r.recovered} contents recovered (${r.chunked} chunked, ${formatBytes(r.bytes)}) under lost+found/\n`);
        if (r.previousIndex) ctx.stdout.write(`previous index kept at ${r.previousIndex}\n`);
        for (const h of r.corrupt) ctx.stdout.write(`not recovered (corrupt object): ${h}\n`);
        for (const h of r.incomplete) ctx.stdout.write(`not recovered (manifest or chunks missing or damaged): ${h}\n`);
        ctx.stdout.write(`lost: ${r.lost.join('; ')}\n`);
      }
      return r.corrupt.length + r.incomplete.length > 0 ? 1 : 0;
    } finally {
      await store.close();
      unlock();
    }
  },
};
