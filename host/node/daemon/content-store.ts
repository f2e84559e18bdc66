/**
 * The one place the daemon and the CLI meet the blob store: opening it and
 * adapting it to {@link ContentSink} (for recording) and to plain reads.
 */
import { ForgeError } from '../errors.js';
import type { PlatformIO } from '../platform-io.js';
import type { GcOptions, GcReport } from '../store/gc.js';
import type { VerifyOptions, VerifyReport } from '../store/verify.js';
import type { ContentSink } from './history.js';

export interface ContentStore extends ContentSink {
  get(hash: string): Promise<Uint8Array>;
  verify(options: VerifyOptions): Promise<VerifyReport>;
  gc(options: GcOptions): Promise<GcReport>;
  close(): Promise<void>;
}

export async function openContentStore(storeDir: string, io?: PlatformIO): Promise<ContentStore> {
  void io;
  throw new ForgeError('dependency', `blob store at ${storeDir}: not supported in this build yet`, { context: { operation: 'open store' } });
}
