/** `forge stats [--json]`: what the history holds and what it costs on disk. */
import { uniqueContent } from '../index-db/queries.js';
import type { CommandSpec } from './command.js';
import { openIndex } from './open.js';
import { formatBytes, renderTable } from '../term/output.js';
import { storeUsage } from './store-usage.js';

export const spec: CommandSpec = {
  name: 'stats',
  summary: 'Files, versions, bytes, dedup and compression ratios, I/O backend.',
  args: '',
  description: [
    'logical bytes: the sum of the sizes of every recorded version (what keeping full copies would cost).',
    'unique bytes: the uncompressed size of the distinct contents. stored bytes: what the objects occupy on disk.',
    'dedup ratio = logical / unique; compression ratio = unique / stored; overall = logical / stored.',
    'The I/O backend is the one this machine selects now (FORGE_IO_BACKEND forces one).',
  ].join('\n'),
  options: { json: { type: 'boolean', description: 'Print JSON.' } },
  minPositionals: 0,
  maxPositionals: 0,
  examples: ['forge stats', 'forge stats --json | jq .dedupRatio'],
  async run(ctx) {
    const { index, storeDir, root } = await openIndex(ctx, { forReading: true });
    let s;
    let unique;
    try {
      s = await index.stats();
      unique = await uniqueContent(index);
    } finally {
      await index.close();
    }
    const usage = storeUsage(storeDir);
    let backend = 'unknown';
    try {
      const { openPlatformIO } = await import('../io/open-platform.js');
      const p = await openPlatformIO({});
      backend = p.io.backend;
      await p.io.close();
    } catch (e) {
      backend = `unavailable (${e instanceof Error ? e.message : String(e)})`;
    }
    const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const out = {
      root,
      storeDir,
      files: s.files,
      versions: s.versions,
      contents: unique.blobs,
      logicalBytes: s.logicalBytes,
      uniqueBytes: unique.bytes,
      storedBytes: usage.objectBytes,
      objects: usage.objects,
      indexBytes: usage.indexBytes,
      storeBytesOnDisk: usage.totalBytes,
      dedupRatio: ratio(s.logicalBytes, unique.bytes),
      compressionRatio: ratio(unique.bytes, usage.objectBytes),
      overallRatio: ratio(s.logicalBytes, usage.objectBytes),
      ioBackend: backend,
    };
    if (ctx.values['json']) {
      ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    const x = (r: number | null): string => (r === null ? '-' : `${r.toFixed(2)}x`);
    ctx.stdout.write(
      renderTable(
        ['', ''],
        [
          ['tree', root],
          ['store', storeDir],
          ['files (live)', String(out.files)],
          ['versions', String(out.versions)],
          ['distinct contents', String(out.contents)],
          ['logical bytes', formatBytes(out.logicalBytes)],
          ['unique bytes', formatBytes(out.uniqueBytes)],
          ['stored bytes (objects)', `${formatBytes(out.storedBytes)} in ${out.objects} objects`],
          ['index', formatBytes(out.indexBytes)],
          ['dedup ratio', x(out.dedupRatio)],
          ['compression ratio', x(out.compressionRatio)],
          ['overall', x(out.overallRatio)],
          ['I/O backend', out.ioBackend],
        ],
      )
        .split('\n')
        .slice(1)
        .join('\n'),
    );
    return 0;
  },
};
