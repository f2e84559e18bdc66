/**
 * The line-sink contract shared by the logger and the human-readable sink,
 * kept apart so neither has to import the other.
 */

/** A line sink: anything with a synchronous `write(line)`. */
export interface LogSink {
  /** Writes one line (JSON or human-readable). */
  write(line: string): unknown;
  /** Flushes buffered lines before the process exits. */
  flushSync?(): void;
  /** Releases the sink's resources. */
  close?(): void;
  /** Ends a stream-like sink. */
  end?(): void;
}
