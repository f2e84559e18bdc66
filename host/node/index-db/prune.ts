/**
 * Which versions a pruning policy removes. The rule that matters: policy never erases the last
 * content of a file. `keep` and `keepDays` count content versions only (removal records carry no
 * content and are kept), and the newest content version of every file survives — also of a file
 * that was deleted since — unless the caller names deleted files with `pruneDeleted`.
 */
import { ForgeError } from '../base/errors.js';
import type { SqliteDatabase } from './sqlite-types.js';
import { stmt } from './statements.js';

/** Which versions a prune keeps: the newest `keep`, those younger than `keepDays`, and deleted files unless `pruneDeleted`. */
export interface PrunePolicy {
  /** Keep at least the `keep` newest content versions of each path (>= 1). */
  keep?: number;
  /** Keep every version younger than `keepDays` days (>= 0). */
  keepDays?: number;
  /**
   * Also remove every version (content and removal records) of files that are deleted now and whose
   * removal is older than `deletedOlderThanDays` (default 0: any deleted file). The only way a
   * file's last content leaves the history.
   */
  pruneDeleted?: boolean;
  deletedOlderThanDays?: number;
  /** "Now" for the ages (default Date.now()). */
  nowMs?: number;
}

/** One version a prune removes (or would remove). */
export interface DoomedVersion {
  seq: number;
  path: string;
  timeMs: number;
  hash: string | null;
  /** Why: `policy` (an older content version) or `deleted` (`pruneDeleted` named its file). */
  reason: 'policy' | 'deleted';
}

/** What a prune would remove, computed before anything is deleted. */
export interface PrunePlan {
  versions: DoomedVersion[];
  /** Content hashes no version would refer to any more. */
  blobsReleased: string[];
  /** Files whose history would be gone entirely (only with pruneDeleted). */
  filesForgotten: string[];
}

function invalid(message: string, field: string): ForgeError {
  return new ForgeError('validation', message, { context: { operation: 'prune', field } });
}

/** Checks a policy; throws a validation ForgeError naming the bad field. */
export function checkPrunePolicy(p: PrunePolicy): void {
  if (p.keep === undefined && p.keepDays === undefined && !p.pruneDeleted) {
    throw invalid('prune: give keep, keepDays and/or pruneDeleted', 'keep');
  }
  if (p.keep !== undefined && (!Number.isInteger(p.keep) || p.keep < 1)) throw invalid('prune: keep must be an integer >= 1', 'keep');
  if (p.keepDays !== undefined && !(p.keepDays >= 0 && Number.isFinite(p.keepDays))) throw invalid('prune: keepDays must be a number >= 0', 'keepDays');
  if (p.deletedOlderThanDays !== undefined && !(p.deletedOlderThanDays >= 0 && Number.isFinite(p.deletedOlderThanDays))) {
    throw invalid('prune: deletedOlderThanDays must be a number >= 0', 'deletedOlderThanDays');
  }
  if (p.deletedOlderThanDays !== undefined && !p.pruneDeleted) throw invalid('prune: deletedOlderThanDays needs pruneDeleted', 'deletedOlderThanDays');
}

const DAY_MS = 86_400_000;

/** The versions `policy` removes, read in the caller's transaction (nothing is changed). */
export function planPrune(db: SqliteDatabase, policy: PrunePolicy): PrunePlan {
  checkPrunePolicy(policy);
  const now = policy.nowMs ?? Date.now();
  const cutoff = policy.keepDays === undefined ? null : now - policy.keepDays * DAY_MS;
  const byPolicy = policy.keep !== undefined || policy.keepDays !== undefined;
  const versions: DoomedVersion[] = [];
  const filesForgotten: string[] = [];
  const deletedFiles = new Set<number>();
  if (policy.pruneDeleted) {
    const deletedCutoff = now - (policy.deletedOlderThanDays ?? 0) * DAY_MS;
    const rows = stmt(
      db,
      `SELECT f.id, f.path FROM files f JOIN versions last ON last.seq = f.latest_seq
       WHERE f.live = 0 AND last.hash IS NULL AND last.time_ms <= @cutoff ORDER BY f.path`,
    ).all({ cutoff: deletedCutoff }) as Array<{ id: number; path: string }>;
    const all = stmt(db, 'SELECT seq, time_ms AS timeMs, hash FROM versions WHERE file_id = ? ORDER BY seq');
    for (const f of rows) {
      deletedFiles.add(f.id);
      filesForgotten.push(f.path);
      for (const v of all.all(f.id) as Array<{ seq: number; timeMs: number; hash: string | null }>) {
        versions.push({ ...v, path: f.path, reason: 'deleted' });
      }
    }
  }
  if (byPolicy) {
    // Content versions ranked newest first per file; rank 1 (the newest content) always survives.
    const rows = stmt(
      db,
      `SELECT seq, path, time_ms AS timeMs, hash, file_id AS fileId FROM (
         SELECT v.seq, f.path, v.time_ms, v.hash, v.file_id,
                ROW_NUMBER() OVER (PARTITION BY v.file_id ORDER BY v.seq DESC) AS rn
         FROM versions v JOIN files f ON f.id = v.file_id
         WHERE v.hash IS NOT NULL)
       WHERE rn > 1
         AND (@keep IS NULL OR rn > @keep)
         AND (@cutoff IS NULL OR time_ms < @cutoff)
       ORDER BY seq`,
    ).all({ keep: policy.keep ?? null, cutoff }) as Array<{ seq: number; path: string; timeMs: number; hash: string; fileId: number }>;
    for (const r of rows) {
      if (!deletedFiles.has(r.fileId)) versions.push({ seq: r.seq, path: r.path, timeMs: r.timeMs, hash: r.hash, reason: 'policy' });
    }
  }
  versions.sort((a, b) => a.seq - b.seq);
  const lost = new Map<string, number>();
  for (const v of versions) if (v.hash !== null) lost.set(v.hash, (lost.get(v.hash) ?? 0) + 1);
  const refsOf = stmt(db, 'SELECT refs FROM blobs WHERE hash = ?');
  const blobsReleased: string[] = [];
  for (const [hash, n] of lost) {
    const r = refsOf.get(hash) as { refs: number } | undefined;
    if (r !== undefined && r.refs - n <= 0) blobsReleased.push(hash);
  }
  return { versions, blobsReleased: blobsReleased.sort(), filesForgotten };
}

/** Carries out a plan made in the same transaction. */
export function applyPrune(db: SqliteDatabase, plan: PrunePlan): void {
  const del = stmt(db, 'DELETE FROM versions WHERE seq = ?');
  const unref = stmt(db, 'UPDATE blobs SET refs = refs - 1 WHERE hash = ?');
  for (const v of plan.versions) {
    del.run(v.seq);
    if (v.hash !== null) unref.run(v.hash);
  }
  const drop = stmt(db, 'DELETE FROM blobs WHERE hash = ? AND refs <= 0');
  for (const h of plan.blobsReleased) drop.run(h);
  const forget = stmt(db, 'DELETE FROM files WHERE path = ? AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.file_id = files.id)');
  for (const p of plan.filesForgotten) forget.run(p);
}
