/**
 * Moving version rows between a local index and remote segments: export reads the versions after
 * a seq, import writes rows with their original seq (so `forge log` / `restore --version N` agree
 * with the origin). The SQL lives in the index (Index.versionsAfter / maxSeq / importVersions).
 */
import type { ImportedBlob, Index } from '../index-db/index.js';
import type { SegmentVersion } from './format.js';

/** The blob facts a local put reported, for the blobs table. */
export type BlobFacts = ImportedBlob;

/** Versions with seq > `afterSeq`, oldest first. */
export async function versionsAfter(index: Index, afterSeq: number): Promise<SegmentVersion[]> {
  return index.versionsAfter(afterSeq);
}

/** The newest seq in the index (0 when empty). */
export async function maxSeq(index: Index): Promise<number> {
  return index.maxSeq();
}

/**
 * Writes `versions` (from a remote host, oldest first) into `index` in one
 * transaction. Every seq must be above the index's newest; `blobs` gives the
 * stored facts of each content hash (it must cover every non-removed version).
 */
export async function importVersions(index: Index, versions: readonly SegmentVersion[], blobs: ReadonlyMap<string, BlobFacts>): Promise<void> {
  await index.importVersions(versions, blobs);
}
