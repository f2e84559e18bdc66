/**
 * The incremental-hash contract shared by the hasher and the core bindings,
 * kept apart so neither has to import the other.
 */

/** An incremental SHA-256. */
export interface HashStream {
  /** Feeds more bytes into the digest. */
  update(data: Uint8Array): void;
  /** Lowercase hex digest; the stream is finished afterwards. */
  hex(): string;
}
