/**
 * Bringing the index up to date with the tree: on the first start that is the
 * initial scan (everything is new); on a restart it finds what changed while
 * the daemon was down. A file whose size, mtime and inode match its newest
 * version is taken as unchanged; any other file is read and hashed, and only
 * content that differs is recorded. Recorded files that no longer exist are
 * recorded as removed.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import type { Index, VersionRecord } from '../index-db/index.js';
import type { HistoryRecorder, Pending, RecordTally } from './record.js';
import { addTally, emptyTally } from './record.js';
import { emptyWalkStats, walkBatches, walkBatchesWith, type FileFacts, type WalkOptions, type WalkResult, type WalkStats } from './tree-scan.js';

/** What the comparison of the walk with the index found (counts: the files themselves stream through). */
export interface ReconcilePlan {
  /** New files, and files whose size/mtime/inode differ from their newest version. */
  toStore: number;
  /** Live paths in the index that are no longer in the tree. */
  toRemove: number;
  /** Files whose metadata matched: not read. */
  unchanged: number;
  bytesToStore: number;
}

/** Whether a file's metadata still matches its newest recorded version. */
export function sameMetadata(f: FileFacts, v: VersionRecord): boolean {
  return v.kind !== 'removed' && v.size === f.size && v.mtimeMs === f.mtimeMs && v.ino === f.ino;
}

/** Live paths the walk did not see and that `exists` says are no longer files: recorded as removed. */
function goneAmong(live: Iterable<string>, seen: ReadonlySet<string>, exists: (treePath: string) => boolean): string[] {
  const gone: string[] = [];
  for (const p of live) if (!seen.has(p) && !exists(p)) gone.push(p);
  return gone;
}

/**
 * The same comparison as {@link reconcile}, on a walk held whole (for a subtree, or a test):
 * what to store, what is gone, how many matched.
 */
export function planReconcile(
  walk: Pick<WalkResult, 'files'>,
  live: readonly VersionRecord[],
  exists: (treePath: string) => boolean,
): { toStore: FileFacts[]; toRemove: string[]; unchanged: number; bytesToStore: number } {
  const byPath = new Map(live.map((v) => [v.path, v]));
  const out = { toStore: [] as FileFacts[], toRemove: [] as string[], unchanged: 0, bytesToStore: 0 };
  const seen = new Set<string>();
  for (const f of walk.files) {
    seen.add(f.path);
    const v = byPath.get(f.path);
    if (v !== undefined && sameMetadata(f, v)) out.unchanged++;
    else {
      out.toStore.push(f);
      out.bytesToStore += f.size;
    }
  }
  out.toRemove = goneAmong(byPath.keys(), seen, exists);
  return out;
}

export interface ReconcileResult {
  walk: Pick<WalkStats, 'directories' | 'skipped' | 'problems' | 'files' | 'totalBytes'>;
  /** Forge's own restore temps the walk met (not recorded). */
  forgeTemps: string[];
  plan: ReconcilePlan;
  tally: RecordTally;
  /** Whether the index had no versions at all before (a first scan). */
  firstScan: boolean;
  durationMs: number;
}

export interface ReconcileHooks {
  /** Called as the walk goes (it streams), with what is to be stored so far. */
  onPlan?(files: number, bytes: number): void;
  /** Called after each stored batch. */
  onProgress?(files: number, bytes: number): void;
}

/**
 * Walks the tree, compares it with the index and records the differences. The walk streams into
 * the recorder batch by batch, so memory does not grow with the tree: a first scan keeps no
 * per-file state at all; a catch-up keeps the index's live versions and the paths seen (it must
 * find which recorded files are gone).
 */
export async function reconcile(
  root: string,
  index: Index,
  recorder: HistoryRecorder,
  walkOptions: WalkOptions,
  hooks: ReconcileHooks = {},
): Promise<ReconcileResult> {
  const t0 = performance.now();
  const live = new Map((await index.files()).map((v) => [v.path, v]));
  const firstScan = live.size === 0 && (await index.stats()).versions === 0;
  const stats = emptyWalkStats();
  const plan: ReconcilePlan = { toStore: 0, toRemove: 0, unchanged: 0, bytesToStore: 0 };
  const seen = live.size > 0 ? new Set<string>() : undefined;
  let walked = false;
  // lstat through the backend's ring when it has one (one submission per window of files).
  const lstatMany = recorder.lstatMany;
  const walkIt = lstatMany ? walkBatchesWith(lstatMany, root, walkOptions, stats) : walkBatches(root, walkOptions, stats);
  async function* toStore(): AsyncGenerator<Pending> {
    for await (const batch of walkIt) {
      for (const f of batch) {
        seen?.add(f.path);
        const v = live.get(f.path);
        if (v !== undefined && sameMetadata(f, v)) {
          plan.unchanged++;
          continue;
        }
        plan.toStore++;
        plan.bytesToStore += f.size;
        // The index was read above and nothing else writes it during the scan: the newest version is known.
        yield { facts: f, prev: v ?? null };
      }
      hooks.onPlan?.(plan.toStore, plan.bytesToStore);
    }
    walked = true;
  }
  const tally = emptyTally();
  addTally(tally, await recorder.recordFiles(toStore(), hooks.onProgress));
  // A recorded path that is now a symlink, FIFO or directory is gone as a file (the walk skipped it);
  // one the walk did not see but that is still a file is only ignored now, and stays. A walk cut
  // short (shutdown) did not see everything: nothing is taken as gone then.
  const isFile = (p: string): boolean => {
    try {
      return fs.lstatSync(path.join(root, ...p.split('/'))).isFile();
    } catch {
      return false;
    }
  };
  const gone = seen !== undefined && walked ? goneAmong(live.keys(), seen, isFile) : [];
  plan.toRemove = gone.length;
  if (gone.length > 0) addTally(tally, await recorder.recordRemovals(gone));
  return {
    walk: { files: stats.files, totalBytes: stats.totalBytes, directories: stats.directories, skipped: stats.skipped, problems: stats.problems },
    forgeTemps: stats.forgeTemps,
    plan,
    tally,
    firstScan,
    durationMs: performance.now() - t0,
  };
}
