/** The one place the daemon and the CLI open the blob store (host/node/store). */
import type { PlatformIO } from '../base/platform-io.js';
import type { ResourceManager } from '../base/resources.js';
import { BlobStore } from '../store/blob-store.js';

export type ContentStore = BlobStore;

/**
 * Opens (creating if needed) the blob store in `storeDir`. With `io`, batch
 * reads and writes go through the platform backend.
 */
export async function openContentStore(storeDir: string, io?: PlatformIO, resources?: ResourceManager): Promise<ContentStore> {
  return BlobStore.open(storeDir, { ...(io ? { io } : {}), ...(resources ? { resources } : {}) });
}
