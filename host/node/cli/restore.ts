/**
 * `forge restore <path>`: writes a past version back, atomically (a temporary
 * file in the same directory, fsynced, then renamed over the target), never
 * outside the tree, and never over content that was not recorded unless --force.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { VersionRecord } from '../index-db/index.js';
import type { CommandContext, CommandSpec } from './command.js';
import { filesAt } from '../index-db/queries.js';
import { formatBytes, UsageError } from '../term/output.js';
import { noHistory, openContent, openIndex, parseSeq, parseTime, shortHash, versionOfPath, type ContentReader, type OpenedIndex } from './open.js';
import { assertOutsideStore, assertReplaceable, assertWritableInsideTree, toTreePath } from './paths.js';

/**
 * Writes the content `hash` to `dest` atomically, streamed (memory does not grow with the content's
 * size, so a multi-gigabyte file restores too): into a temporary sibling verified chunk by chunk and
 * as a whole, fsynced, renamed over `dest`, then the directory fsynced. Returns the bytes written.
 */
async function restoreContent(content: ContentReader, hash: string, dest: string, mode?: number): Promise<number> {
  const dir = path.dirname(dest);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(dest)}.forge-restore-${randomBytes(6).toString('hex')}`);
  try {
    const { size } = await content.getToFile(hash, tmp, { mode: mode === undefined ? 0o644 : mode & 0o7777 });
    const fd = fs.openSync(tmp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, dest);
    fsyncDir(dir);
    return size;
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function fsyncDir(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* directories cannot be opened for fsync on every platform */
  }
}

function sha256File(abs: string): string {
  return createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
}

/** The tree path of `arg` when it names a directory of the tree ('' for the root), else undefined. */
function directoryOf(root: string, cwd: string, arg: string): string | undefined {
  const abs = path.resolve(cwd, arg);
  if (abs === path.resolve(root)) return '';
  let st;
  try {
    st = fs.lstatSync(abs);
  } catch {
    return undefined;
  }
  return st.isDirectory() ? toTreePath(root, cwd, arg) : undefined;
}

/** Checks a destination against every rule, before anything is written. */
function checkDestination(dest: string, storeDir: string, shownAs: string): void {
  assertOutsideStore(dest, storeDir, shownAs);
  assertReplaceable(dest, shownAs);
}

/** True when `dest` exists as a regular file. */
function existsAsFile(dest: string): boolean {
  try {
    return fs.lstatSync(dest).isFile();
  } catch {
    return false;
  }
}

/** `forge restore <dir> --at <time>`: every file as it was then; all checks pass before the first write. */
async function restoreDirectory(ctx: CommandContext, opened: OpenedIndex, dir: string, at: Date): Promise<number> {
  const { root, index, storeDir } = opened;
  const files = await filesAt(index, dir, at.getTime());
  if (files.length === 0) {
    throw new ForgeError('validation', `no files were recorded under ${dir || 'the tree'} at ${at.toISOString()}`, {
      context: { file: dir || '.', operation: 'restore', at: at.toISOString() },
      suggestions: [`See what was there with \`forge ls ${dir || '.'} --at <time>\` and \`forge log ${dir || ''}\`.`],
    });
  }
  const toOpt = ctx.values['to'];
  const force = ctx.values['force'] === true;
  const plan: Array<{ v: VersionRecord; dest: string }> = [];
  for (const v of files) {
    const rel = dir === '' ? v.path : v.path.slice(dir.length + 1);
    const dest = typeof toOpt === 'string' ? path.resolve(ctx.cwd, toOpt, ...rel.split('/')) : assertWritableInsideTree(root, v.path);
    checkDestination(dest, storeDir, typeof toOpt === 'string' ? path.join(toOpt, rel) : v.path);
    if (!force && existsAsFile(dest)) {
      if (typeof toOpt === 'string') {
        throw new ForgeError('validation', `${dest} exists; refusing to overwrite it`, {
          context: { file: dest, operation: 'restore' },
          suggestions: ['Choose an empty --to destination, or add --force to replace what is there.'],
        });
      }
      const latest = await index.latest(v.path);
      if (latest?.hash !== sha256File(dest)) {
        throw new ForgeError('validation', `${v.path} has changes that are not recorded yet; refusing to overwrite them (nothing was restored)`, {
          context: { file: v.path, operation: 'restore' },
          suggestions: ['Wait for `forge watch` to record the change, or use --to <dest>, or add --force to overwrite it.'],
        });
      }
    }
    plan.push({ v, dest });
  }
  const content = await openContent(opened);
  let bytes = 0;
  try {
    for (const { v, dest } of plan) {
      if (v.hash === null) continue;
      bytes += await restoreContent(content, v.hash, dest, v.mode ?? undefined);
    }
  } finally {
    await content.close();
  }
  ctx.stdout.write(`restored ${plan.length} files (${formatBytes(bytes)}) of ${dir || 'the tree'} as of ${at.toISOString()}\n`);
  return 0;
}

export const spec: CommandSpec = {
  name: 'restore',
  summary: 'Write a past version of a file, or a directory as it was, back (atomically).',
  args: '<path | dir>',
  description: [
    'Writes a recorded version of <path> (default: the newest one that has content) back into the tree, or to --to <dest>.',
    'With a directory (or `.` for the whole tree) and --at <time>: writes every file as it was at <time> (see `forge ls <dir> --at <time>`), under the same rules for each file; files that did not exist then are left alone. With --to, the files go below <dest>.',
    'The write is atomic: a temporary file next to the target is fsynced and renamed over it.',
    'Refused: paths outside the watched tree (.., absolute paths elsewhere, symlinks leading out), any destination inside the store (at any depth, through any link), replacing anything that is not a regular file (a FIFO, device, socket, link or directory, even with --force), and overwriting a file whose current content is not the newest recorded version (it would be lost) unless --force. With --to, an existing <dest> is only replaced with --force.',
  ].join('\n'),
  options: {
    version: { type: 'string', valueName: 'seq', description: "The version to restore (the seq shown by 'forge log')." },
    at: { type: 'string', valueName: 'time', description: 'The version current at <time>: ISO-8601, epoch ms, or an age like 15m, 2h, 3d.' },
    to: { type: 'string', valueName: 'dest', description: 'Write to <dest> instead of <path> (any location).' },
    force: { type: 'boolean', short: 'f', description: 'Overwrite even if the current content was never recorded.' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: [
    'forge restore src/index.ts                 # the newest recorded content',
    'forge restore src/index.ts --version 42',
    'forge restore notes.md --at 2h             # as it was two hours ago',
    'forge restore notes.md --version 7 --to /tmp/notes-v7.md',
    'forge restore src --at 2026-11-27T09:30           # the directory as it was then',
    'forge restore . --at 1d --to /tmp/yesterday       # the whole tree as of a day ago, elsewhere',
  ],
  async run(ctx) {
    if (ctx.values['version'] !== undefined && ctx.values['at'] !== undefined) {
      throw new UsageError('give either --version or --at, not both', 'restore');
    }
    // Check the arguments before touching the store.
    const vOpt = ctx.values['version'];
    const atOpt = ctx.values['at'];
    const wantSeq = typeof vOpt === 'string' ? parseSeq(vOpt, '--version', 'restore') : undefined;
    const wantAt = typeof atOpt === 'string' ? parseTime(atOpt, 'restore') : undefined;
    const opened = await openIndex(ctx, { forReading: true });
    const { root, index } = opened;
    try {
      const arg = ctx.positionals[0]!;
      const dirPath = directoryOf(root, ctx.cwd, arg);
      if (dirPath !== undefined) {
        if (wantAt === undefined) {
          throw new UsageError(`${arg} is a directory: give --at <time> to restore it as it was then (see \`forge ls ${arg} --at <time>\`)`, 'restore');
        }
        return await restoreDirectory(ctx, opened, dirPath, wantAt);
      }
      const treePath = toTreePath(root, ctx.cwd, arg);
      const toOpt = ctx.values['to'];
      // The target must stay inside the real tree (checked before touching anything).
      const dest = typeof toOpt === 'string' ? path.resolve(ctx.cwd, toOpt) : assertWritableInsideTree(root, treePath);
      const shownAs = typeof toOpt === 'string' ? toOpt : treePath;
      checkDestination(dest, opened.storeDir, shownAs);
      const history = await index.versions(treePath);
      if (history.length === 0) throw noHistory(treePath, root);
      let chosen: VersionRecord | undefined;
      if (wantSeq !== undefined) chosen = await versionOfPath(index, treePath, wantSeq);
      else if (wantAt !== undefined) {
        const at = wantAt;
        chosen = await index.versionAt(treePath, at);
        if (!chosen) {
          throw new ForgeError('validation', `${treePath} had no recorded version at ${at.toISOString()}`, {
            context: { file: treePath, operation: 'restore', at: at.toISOString() },
            suggestions: [`Its first version was recorded at ${new Date(history[0]!.timeMs).toISOString()}; see \`forge log ${treePath}\`.`],
          });
        }
      } else chosen = [...history].reverse().find((v) => v.hash !== null);
      if (!chosen) {
        throw new ForgeError('validation', `no recorded version of ${treePath} has content; there is nothing to restore`, {
          context: { file: treePath, operation: 'restore' },
          suggestions: [`See its history with \`forge log ${treePath}\`.`],
        });
      }
      if (chosen.hash === null) {
        throw new ForgeError('validation', `version ${chosen.seq} of ${treePath} is a removal; it has no content to restore`, {
          context: { file: treePath, operation: 'restore' },
          suggestions: [`Pick a version with content from \`forge log ${treePath}\`.`],
        });
      }
      const force = ctx.values['force'] === true;
      if (!force) {
        let exists = false;
        try {
          exists = fs.lstatSync(dest).isFile();
        } catch {
          exists = false;
        }
        if (exists) {
          if (typeof toOpt === 'string') {
            throw new ForgeError('validation', `${dest} exists; refusing to overwrite it`, {
              context: { file: dest, operation: 'restore' },
              suggestions: ['Choose another --to destination, or add --force to replace it.'],
            });
          }
          const latest = history[history.length - 1]!;
          const current = sha256File(dest);
          if (latest.hash !== current) {
            throw new ForgeError(
              'validation',
              `${treePath} has changes that are not recorded yet (its content is not the newest version ${latest.seq}); refusing to overwrite them`,
              {
                context: { file: treePath, operation: 'restore', currentHash: current, latestHash: latest.hash },
                suggestions: [
                  'Wait for `forge watch` to record the change (then it can be restored later too), or',
                  `save the current file elsewhere first, or use --to <dest>, or add --force to overwrite it.`,
                ],
              },
            );
          }
        }
      }
      const content = await openContent(opened);
      try {
        const size = await restoreContent(content, chosen.hash, dest, chosen.mode ?? undefined);
        ctx.stdout.write(
          `restored ${treePath} version ${chosen.seq} (${formatBytes(size)}, ${shortHash(chosen.hash)}) to ${path.relative(ctx.cwd, dest) || dest}\n`,
        );
      } finally {
        await content.close();
      }
      return 0;
    } finally {
      await index.close();
    }
  },
};
