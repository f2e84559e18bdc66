/** `forge cat <hash | path@N>`: writes stored content to stdout. */
import { ForgeError } from '../base/errors.js';
import type { CommandSpec } from './command.js';
import { openContent, openIndex, parseSeq, versionOfPath } from './open.js';
import { toTreePath } from './paths.js';
import { resolveHashPrefix } from './objects.js';

/** Contents at least this large are streamed chunk by chunk (each verified before it is written) instead of held whole. */
const STREAM_FROM_BYTES = 64 * 1024 * 1024;

export const spec: CommandSpec = {
  name: 'cat',
  summary: 'Write an object or a file version to stdout.',
  args: '<hash | path@N>',
  description: [
    'With a hash (64 hex digits, or a unique prefix of at least 6), writes that content. With path@N, writes version N of path.',
    'The content is verified (SHA-256) before anything is written; a damaged object fails with an error instead. Contents of 64 MiB and more are streamed: each chunk is verified before it is written, and the whole at the end.',
  ].join('\n'),
  options: {},
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['forge cat src/index.ts@42 > /tmp/index-v42.ts', 'forge cat 3a7bd3e2360a', 'forge cat src/index.ts@42 | less'],
  async run(ctx) {
    const arg = ctx.positionals[0]!;
    const opened = await openIndex(ctx, { forReading: true });
    const { root, index } = opened;
    try {
      let hash: string;
      const at = arg.lastIndexOf('@');
      if (/^[0-9a-fA-F]{6,64}$/.test(arg)) {
        hash = await resolveHashPrefix(opened.storeDir, index, arg.toLowerCase());
      } else if (at > 0) {
        const treePath = toTreePath(root, ctx.cwd, arg.slice(0, at));
        const v = await versionOfPath(index, treePath, parseSeq(arg.slice(at + 1), 'the version after @', 'cat'));
        if (v.hash === null) {
          throw new ForgeError('validation', `version ${v.seq} of ${treePath} is a removal; it has no content`, {
            context: { file: treePath, operation: 'cat' },
            suggestions: [`Pick a version with content from \`forge log ${treePath}\`.`],
          });
        }
        hash = v.hash;
      } else {
        const { UsageError } = await import('../term/output.js');
        throw new UsageError(`expected a hash (>= 6 hex digits) or path@N, got ${JSON.stringify(arg)}`, 'cat');
      }
      const content = await openContent(opened);
      try {
        const write = (data: Uint8Array): Promise<void> => new Promise<void>((resolve, reject) => ctx.stdout.write(data, (e) => (e ? reject(e) : resolve())));
        const size = (await index.blob(hash))?.size ?? 0;
        if (size < STREAM_FROM_BYTES) await write(await content.get(hash));
        else for await (const chunk of content.getStream(hash)) await write(chunk);
      } finally {
        await content.close();
      }
      return 0;
    } finally {
      await index.close();
    }
  },
};
