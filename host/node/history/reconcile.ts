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
import type { HistoryRecorder, RecordTally } from './record.js';
import { addTally, emptyTally } from './record.js';
import { walkTree, type FileFacts, type WalkOptions, type WalkResult } from './tree-scan.js';

export interface ReconcilePlan {
  /** New files, and files whose size/mtime/inode differ from their newest version. */
  toStore: FileFacts[];
  /** Live paths in the index that are no longer in the tree. */
  toRemove: string[];
  /** Files whose metadata matched: not read. */
  unchanged: number;
  bytesToStore: number;
}

/** Whether a file's metadata still matches its newest recorded version. */
export function sameMetadata(f: FileFacts, v: VersionRecord): boolean {
  return v.kind !== 'removed' && v.size === f.size && v.mtimeMs === f.mtimeMs && v.ino === f.ino;
}

/**
 * Compares a walk with the live files of the index. `exists` decides whether a
 * live path missing from the walk is really gone (it may just be ignored now).
 */
export function planReconcile(walk: WalkResult, live: readonly VersionRecord[], exists: (treePath: string) => boolean): ReconcilePlan {
  const byPath = new Map(live.map((v) => [v.path, v]));
  const plan: ReconcilePlan = { toStore: [], toRemove: [], unchanged: 0, bytesToStore: 0 };
  const seen = new Set<string>();
  for (const f of walk.files) {
    seen.add(f.path);
    const v = byPath.get(f.path);
    if (v !== undefined && sameMetadata(f, v)) plan.unchanged++;
    else {
      plan.toStore.push(f);
      plan.bytesToStore += f.size;
    }
  }
  for (const v of live) if (!seen.has(v.path) && !exists(v.path)) plan.toRemove.push(v.path);
  return plan;
}

export interface ReconcileResult {
  walk: Pick<WalkResult, 'directories' | 'skipped' | 'problems'> & { files: number; totalBytes: number };
  /** Forge's own restore temps the walk met (not recorded). */
  forgeTemps: string[];
  plan: Omit<ReconcilePlan, 'toStore' | 'toRemove'> & { toStore: number; toRemove: number };
  tally: RecordTally;
  /** Whether the index had no versions at all before (a first scan). */
  firstScan: boolean;
  durationMs: number;
}

export interface ReconcileHooks {
  /** Called once the walk is done, with what will be stored. */
  onPlan?(files: number, bytes: number): void;
  /** Called after each stored batch. */
  onProgress?(files: number, bytes: number): void;
}

/** Walks the tree, compares it with the index and records the differences. */
export async function reconcile(
  root: string,
  index: Index,
  recorder: HistoryRecorder,
  walkOptions: WalkOptions,
  hooks: ReconcileHooks = {},
): Promise<ReconcileResult> {
  const t0 = performance.now();
  const live = await index.files();
  const firstScan = live.length === 0 && (await index.stats()).versions === 0;
  const walk = walkTree(root, walkOptions);
  // A recorded path that is now a symlink, FIFO or directory is gone as a file (the walk skipped it).
  const plan = planReconcile(walk, live, (p) => {
    try {
      return fs.lstatSync(path.join(root, ...p.split('/'))).isFile();
    } catch {
      return false;
    }
  });
  hooks.onPlan?.(plan.toStore.length, plan.bytesToStore);
  const tally = emptyTally();
  addTally(tally, await recorder.recordFiles(plan.toStore, hooks.onProgress));
  if (plan.toRemove.length > 0) addTally(tally, await recorder.recordRemovals(plan.toRemove));
  return {
    walk: { files: walk.files.length, totalBytes: walk.totalBytes, directories: walk.directories, skipped: walk.skipped, problems: walk.problems },
    forgeTemps: walk.forgeTemps,
    plan: { toStore: plan.toStore.length, toRemove: plan.toRemove.length, unchanged: plan.unchanged, bytesToStore: plan.bytesToStore },
    tally,
    firstScan,
    durationMs: performance.now() - t0,
  };
}
