/**
 * Opening the history for a command: locate the store, open the index (and
 * the blob store when content is needed), and resolve version selectors.
 */
import { accessSync, constants, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { Index, VersionRecord } from '../index-db/index.js';
import { versionBySeq } from '../index-db/queries.js';
import type { ContentStore } from '../history/content-store.js';
import type { CommandContext } from './command.js';
import { locate, requireStore, type Location } from './paths.js';
import { UsageError } from '../term/output.js';

/** The index database inside a store directory. */
export function indexFileOf(storeDir: string): string {
  return path.join(storeDir, 'index.db');
}

export interface OpenedIndex extends Location {
  index: Index;
}

/**
 * Locates the store and opens its index; throws a ForgeError when there is none. With `forReading`
 * (commands that only read the history), a store that cannot be written (a read-only mount, a
 * directory without write permission) is still read: SQLite in WAL mode must write beside the
 * database even to read it, so the index is copied to a private temporary directory and read there.
 */
export async function openIndex(ctx: Pick<CommandContext, 'values' | 'cwd'>, options: { forReading?: boolean } = {}): Promise<OpenedIndex> {
  const loc = locate(ctx);
  requireStore(loc);
  const { Index } = await import('../index-db/index.js');
  const file = indexFileOf(loc.storeDir);
  if (options.forReading && !writable(loc.storeDir)) {
    const copy = snapshotIndex(file);
    const index = await Index.open(copy.file, { readonly: true });
    const close = index.close.bind(index);
    index.close = async () => {
      await close();
      rmSync(copy.dir, { recursive: true, force: true });
    };
    return { ...loc, index };
  }
  const index = await Index.open(file);
  return { ...loc, index };
}

/** Whether this process may create files in `dir` (false on a read-only mount or without write permission). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK); // EROFS on a read-only mount, for root too
    return true;
  } catch {
    return false;
  }
}

/** A private copy of the index (with its WAL, which holds the newest commits) for reading a store that cannot be written. */
function snapshotIndex(file: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'forge-ro-index-'));
  const dest = path.join(dir, 'index.db');
  for (const suffix of ['', '-wal']) {
    try {
      copyFileSync(file + suffix, dest + suffix);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || suffix === '') {
        rmSync(dir, { recursive: true, force: true });
        throw new ForgeError('filesystem', `cannot read the index of a read-only store: ${(e as Error).message}`, {
          cause: e,
          context: { file, operation: 'open index', code: (e as NodeJS.ErrnoException).code },
        });
      }
    }
  }
  return { dir, file: dest };
}

/** Parses a positive integer option or argument, or throws a usage error. */
export function parseSeq(value: string, what: string, command: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a version number (the seq shown by 'forge log'), got ${JSON.stringify(value)}`, command);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be >= 1, got ${value}`, command);
  return n;
}

/** ISO-8601 as `--at` accepts it: a date, optionally a time, optionally a zone (without one: local time). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses `--at`, strictly: an ISO-8601 date/time (2026-11-27, 2026-11-27T09:30, 2026-11-27T09:30:00Z,
 * 2026-11-27 09:30+01:00), milliseconds since the epoch (at least 10 digits, so `0` or `2024` is not a
 * time), or an age such as `90s`, `15m`, `2h`, `3d`, `1w` (that long ago). Anything else is a usage error.
 */
export function parseTime(value: string, command: string, now = Date.now()): Date {
  const v = value.trim();
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)(?:\s*ago)?$/.exec(v);
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit);
  }
  if (/^\d{10,}$/.test(v)) return new Date(Number(v));
  const t = ISO_TIME.test(v) ? Date.parse(v.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(t)) {
    throw new UsageError(
      `--at must be an ISO-8601 date/time (2026-11-27T09:30:00Z), epoch ms (10+ digits), or an age like 15m, 2h, 3d; got ${JSON.stringify(value)}`,
      command,
    );
  }
  return new Date(t);
}

/** The version `seq` of `treePath`, or a ForgeError that says which versions exist. */
export async function versionOfPath(index: Index, treePath: string, seq: number): Promise<VersionRecord> {
  const v = await versionBySeq(index, seq);
  if (v === undefined || v.path !== treePath) {
    const all = await index.versions(treePath);
    throw new ForgeError('validation', `${treePath} has no version ${seq}`, {
      context: { file: treePath, operation: 'select version', seq },
      suggestions: [
        all.length > 0
          ? `Its versions are: ${all.map((x) => x.seq).join(', ')} (see \`forge log ${treePath}\`).`
          : `Nothing is recorded for ${treePath}; check the path (relative to the current directory) or --root.`,
      ],
    });
  }
  return v;
}

/** Throws the standard "nothing recorded" error. */
export function noHistory(treePath: string, root: string): ForgeError {
  return new ForgeError('validation', `no recorded versions of ${treePath}`, {
    context: { file: treePath, operation: 'log', root },
    suggestions: [
      `Paths are relative to the current directory and must lie under the watched tree ${root}.`,
      'Is `forge watch` running for this tree? Files it ignores (node_modules, .git, …) have no history.',
    ],
  });
}

/** Shortens a hash for display. */
export function shortHash(h: string | null | undefined): string {
  return h ? h.slice(0, 12) : '-';
}

/** What the read commands need from the blob store. */
export type ContentReader = Pick<ContentStore, 'get' | 'getToFile' | 'getStream' | 'close'>;

/** Opens the blob store of `loc` (reads verify every object's SHA-256). */
export async function openContent(loc: Location): Promise<ContentStore> {
  const { openContentStore } = await import('../history/content-store.js');
  return openContentStore(loc.storeDir);
}
