/** `forge diff <path> [A] [B]`: a unified diff between two versions (or the file on disk). */
import * as fs from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { VersionRecord } from '../index-db/index.js';
import { unifiedDiff } from './unified-diff.js';
import type { CommandSpec } from './command.js';
import { UsageError } from '../term/output.js';
import { noHistory, openContent, openIndex, parseSeq, versionOfPath, type ContentReader } from './open.js';
import { realPathOfMaybeMissing, toTreePath } from './paths.js';
import { readFileSafely } from '../base/safe-read.js';

type Side = { label: string; version?: VersionRecord; data?: Uint8Array };

/**
 * The file on disk now, read without following links: a symbolic link (or a directory on the way
 * leading out of the tree) is never read through, so `diff … current` cannot show a file outside the tree.
 */
async function readCurrent(root: string, treePath: string): Promise<Side> {
  const abs = path.join(root, ...treePath.split('/'));
  const realRoot = fs.realpathSync(root);
  const realDir = realPathOfMaybeMissing(path.dirname(abs));
  if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) {
    throw new ForgeError('validation', `refusing to read ${treePath}: a directory on the way leads outside the tree (to ${realDir})`, {
      context: { file: treePath, operation: 'diff', code: 'ERR_PATH_ESCAPE' },
      suggestions: ['Compare recorded versions instead: forge diff <path> A B.'],
    });
  }
  try {
    return { label: `${treePath} (current)`, data: (await readFileSafely(abs, undefined, 'diff')).data };
  } catch (e) {
    const code = (e as ForgeError).code;
    if (code === 'ENOENT') return { label: `${treePath} (current, missing)`, data: new Uint8Array(0) };
    if (code === 'ELOOP' || code === 'ENOTREG') {
      throw new ForgeError('validation', `${treePath} is not a regular file now (a symbolic link, FIFO or device); it is not read`, {
        context: { file: treePath, operation: 'diff', code },
        suggestions: ['Compare recorded versions instead: forge diff <path> A B.'],
      });
    }
    throw e;
  }
}

export const spec: CommandSpec = {
  name: 'diff',
  summary: 'Show a unified diff between two versions of a file.',
  args: '<path> [A] [B]',
  description: [
    'A and B are version numbers (the seq from `forge log`), or `current` for the file on disk now.',
    'Without A and B: the previous version against the newest. With only A: A against the newest.',
    'A removal compares as empty content. Binary files get a one-line summary. Exits 0 whether or not they differ.',
  ].join('\n'),
  options: {
    context: { type: 'string', short: 'U', valueName: 'lines', description: 'Lines of context around each change (default 3).' },
  },
  minPositionals: 1,
  maxPositionals: 3,
  examples: ['forge diff src/index.ts', 'forge diff src/index.ts 12 40', 'forge diff src/index.ts 40 current', 'forge diff -U 10 README.md'],
  async run(ctx) {
    const opened = await openIndex(ctx, { forReading: true });
    const { root, index } = opened;
    let content: ContentReader | undefined;
    try {
      const treePath = toTreePath(root, ctx.cwd, ctx.positionals[0]!);
      const history = await index.versions(treePath);
      if (history.length === 0) throw noHistory(treePath, root);
      const pick = async (arg: string): Promise<Side> => {
        if (arg === 'current') return readCurrent(root, treePath);
        const v = await versionOfPath(index, treePath, parseSeq(arg, 'version', 'diff'));
        return { label: `${treePath}@${v.seq}`, version: v };
      };
      let a: Side;
      let b: Side;
      const [, argA, argB] = ctx.positionals;
      if (argA === undefined) {
        if (history.length < 2) {
          throw new ForgeError('validation', `${treePath} has only one recorded version (${history[0]!.seq}); nothing to compare`, {
            context: { file: treePath, operation: 'diff' },
            suggestions: [`Compare it with the file on disk: forge diff ${treePath} ${history[0]!.seq} current`],
          });
        }
        const pa = history[history.length - 2]!;
        const pb = history[history.length - 1]!;
        a = { label: `${treePath}@${pa.seq}`, version: pa };
        b = { label: `${treePath}@${pb.seq}`, version: pb };
      } else {
        a = await pick(argA);
        b = argB === undefined ? { label: `${treePath}@${history.at(-1)!.seq}`, version: history.at(-1)! } : await pick(argB);
      }
      const load = async (s: Side): Promise<Uint8Array> => {
        if (s.data) return s.data;
        if (!s.version?.hash) return new Uint8Array(0); // a removal: empty
        content ??= await openContent(opened);
        return content.get(s.version.hash);
      };
      const ctxOpt = ctx.values['context'];
      let context = 3;
      if (typeof ctxOpt === 'string') {
        context = Number(ctxOpt);
        if (!Number.isInteger(context) || context < 0) throw new UsageError(`--context must be an integer >= 0, got ${JSON.stringify(ctxOpt)}`, 'diff');
      }
      const r = unifiedDiff(await load(a), await load(b), { labelA: a.label, labelB: b.label, context });
      if (r.text === '') ctx.stdout.write(`${a.label} and ${b.label} are identical\n`);
      else ctx.stdout.write(r.text);
      if (r.truncatedSearch) ctx.stderr.write('forge: note: the files differ too much for a minimal diff; shown as a full replacement\n');
      return 0;
    } finally {
      await content?.close();
      await index.close();
    }
  },
};
