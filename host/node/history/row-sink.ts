/** Gathering the versions of stored batches into large index transactions (see RecorderOptions.indexBatchRows). */
import type { AddVersionInput, Index } from '../index-db/index.js';

/** The part of a tally the sink credits. */
interface RecordedCount {
  recorded: number;
}

/**
 * Versions of stored batches, committed to the index `max` rows per transaction; `tally.recorded`
 * counts them once committed.
 */
export class RowSink {
  private rows: AddVersionInput[] = [];

  constructor(
    private readonly index: Index,
    private readonly max: number,
    private readonly runBatch: <T>(operation: string, fn: () => Promise<T>) => Promise<T>,
    private readonly tally: RecordedCount,
  ) {}

  add(rows: readonly AddVersionInput[]): void {
    for (const r of rows) this.rows.push(r);
  }

  full(): boolean {
    return this.rows.length >= this.max;
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    await this.runBatch('record versions', () => this.index.addVersions(rows));
    this.tally.recorded += rows.length;
  }
}
