/** The counts a recording call returns, and how batches add up. */
import type { ForgeError } from '../base/errors.js';

/** What one call recorded. */
export interface RecordTally {
  /** Versions added. */
  recorded: number;
  /** Files read and stored (including unchanged ones that were then skipped). */
  filesStored: number;
  bytesRead: number;
  /** Content identical to the newest version: not recorded again. */
  unchanged: number;
  removed: number;
  renamed: number;
  /** Files that failed to read; failures are logged. */
  failed: number;
  /** Files read again because they changed (or were replaced) between the walk and the read. */
  reread: number;
  errors: ForgeError[];
}

/** A tally of nothing. */
export function emptyTally(): RecordTally {
  return { recorded: 0, filesStored: 0, bytesRead: 0, unchanged: 0, removed: 0, renamed: 0, failed: 0, reread: 0, errors: [] };
}

/** Adds `t` into `into` (returned). */
export function addTally(into: RecordTally, t: RecordTally): RecordTally {
  into.recorded += t.recorded;
  into.filesStored += t.filesStored;
  into.bytesRead += t.bytesRead;
  into.unchanged += t.unchanged;
  into.removed += t.removed;
  into.renamed += t.renamed;
  into.failed += t.failed;
  into.reread += t.reread;
  into.errors.push(...t.errors);
  return into;
}
