/**
 * `gc`: removes objects and manifest refs that nothing in `keep` reaches.
 *
 * Races with concurrent puts are excluded three ways:
 * - in this process, every candidate is removed under its hash lock, and a hash
 *   any put wrote or found intact since gc began ("touched") is kept;
 * - across processes, objects younger than `minAgeMs` are kept (a put that
 *   finds an object intact refreshes its mtime, as git does);
 * - `keep` is expanded through manifests, so chunks of kept files stay.
 */
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../base/errors.js';
import { decodeManifest } from './chunking.js';
import type { KeyedLocks } from './keyed-locks.js';
import { listStoreDir, MANIFESTS_DIR, OBJECTS_DIR, isFanoutDir, isHash, isObjectFileName, manifestRefPath, tmpDir } from './object-path.js';
import { readObjectSync, type ReadContext } from './read.js';
import { fsyncDirAsync } from './write.js';

/** Options of `gc`: what to keep and age limits. */
export interface GcOptions {
  /** Hashes to keep: whole-content hashes (chunked ones keep their manifest and chunks) or object hashes. */
  keep: Iterable<string>;
  /** Keep objects modified less than this long ago (default 60,000 ms; 0 in tests). */
  minAgeMs?: number;
  /** Remove tmp leftovers older than this (default 3,600,000 ms). */
  tmpMaxAgeMs?: number;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
}

/** What `gc` kept and removed (or would remove, on a dry run). */
export interface GcReport {
  /** Objects (and manifest refs) reachable from `keep`. */
  kept: number;
  removed: number;
  removedBytes: number;
  manifestRefsRemoved: number;
  tmpRemoved: number;
  /** Unreferenced but younger than minAgeMs, or touched by a put during gc. */
  skipped: number;
  removedHashes: string[];
}

export interface GcContext {
  read: ReadContext;
  locks: KeyedLocks;
  sync: boolean;
  /** Hashes puts have touched since this gc began. */
  touched: ReadonlySet<string>;
}

/** The set of object hashes (and ref names) reachable from `keep`. */
function reachable(ctx: GcContext, keep: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const h of keep) {
    if (!isHash(h)) continue;
    out.add(h);
    let ref: string;
    try {
      ref = readFileSync(manifestRefPath(ctx.read.root, h), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const m = /^([0-9a-f]{64})\n$/.exec(ref);
    const manifestBytes = m ? readObjectSync(ctx.read, m[1]!, true) : undefined;
    if (!m || manifestBytes === undefined) {
      throw new ForgeError('validation', `gc stopped: the manifest of kept content ${h} is unreadable, so its chunks cannot be told apart`, {
        context: { operation: 'gc', file: manifestRefPath(ctx.read.root, h) },
        suggestions: ['Run `forge verify`, re-add the file to repair its manifest, then run gc again.'],
      });
    }
    out.add(m[1]!);
    for (const c of decodeManifest(manifestBytes).chunks) out.add(c.hash);
  }
  return out;
}

/** Removes what `keep` does not reach; see the file comment for the safety rules. */
export async function collectGarbage(ctx: GcContext, options: GcOptions): Promise<GcReport> {
  const minAge = options.minAgeMs ?? 60_000;
  const tmpMaxAge = options.tmpMaxAgeMs ?? 3_600_000;
  const keep = reachable(ctx, options.keep);
  const root = ctx.read.root;
  const report: GcReport = { kept: 0, removed: 0, removedBytes: 0, manifestRefsRemoved: 0, tmpRemoved: 0, skipped: 0, removedHashes: [] };
  const dirty = new Set<string>();
  const start = Date.now();

  let visited = 0;
  const tryRemove = async (hash: string, path: string, isRef: boolean): Promise<void> => {
    // Yield to the event loop now and then: a big gc must not stall the daemon (puts proceed meanwhile).
    if (++visited % 32 === 0) await new Promise((r) => setImmediate(r));
    if (keep.has(hash)) {
      report.kept++;
      return;
    }
    const release = await ctx.locks.lock(isRef ? `ref:${hash}` : hash);
    try {
      let st;
      try {
        st = statSync(path);
      } catch {
        return; // removed meanwhile
      }
      if (ctx.touched.has(hash) || start - st.mtimeMs < minAge) {
        report.skipped++;
        return;
      }
      if (!options.dryRun) unlinkSync(path);
      dirty.add(join(path, '..'));
      if (isRef) report.manifestRefsRemoved++;
      else {
        report.removed++;
        report.removedBytes += st.size;
        report.removedHashes.push(hash);
      }
    } finally {
      release();
    }
  };

  // Refs first, so no ref ever names a removed manifest.
  const manifests = join(root, MANIFESTS_DIR);
  for (const d of listStoreDir(manifests)) {
    if (!isFanoutDir(d)) continue;
    for (const f of listStoreDir(join(manifests, d))) if (isObjectFileName(f)) await tryRemove(d + f, join(manifests, d, f), true);
  }
  const objects = join(root, OBJECTS_DIR);
  for (const d of listStoreDir(objects)) {
    if (!isFanoutDir(d)) continue;
    for (const f of listStoreDir(join(objects, d))) if (isObjectFileName(f)) await tryRemove(d + f, join(objects, d, f), false);
  }
  const tmp = tmpDir(root);
  for (const t of listStoreDir(tmp)) {
    const p = join(tmp, t);
    try {
      if (start - statSync(p).mtimeMs >= tmpMaxAge) {
        if (!options.dryRun) unlinkSync(p);
        report.tmpRemoved++;
      }
    } catch {
      // a writer finished (renamed) it meanwhile
    }
  }
  // Off the event loop, in parallel: a directory fsync can wait for the journal.
  if (ctx.sync && !options.dryRun) await Promise.all([...dirty].map((d) => fsyncDirAsync(d)));
  return report;
}
