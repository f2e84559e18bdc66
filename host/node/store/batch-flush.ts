/**
 * The batched flush of a synced store batch (Linux, on filesystems where it is known sound):
 * instead of an fsync per object and one per fan-out directory, a batch costs two syncfs(2):
 *
 * 1. every tmp file of the batch is written, with no fsync;
 * 2. syncfs: the data and metadata of the whole filesystem, tmp files included, reach stable
 *    storage, and the device cache is flushed; an error fails every object of the batch;
 * 3. each tmp file is renamed to its final name: the name now points at an inode whose bytes are
 *    already durable, so a final name can only ever hold a complete frame;
 * 4. syncfs again: the renames (and any new fan-out directory) are durable; only then do the puts
 *    resolve, so no index row ever names an object that a crash could take away.
 *
 * syncfs reports writeback errors only from the moment its descriptor was opened (errseq, Linux
 * 5.8+), so this module opens one descriptor on the objects directory before the store's first
 * write and keeps it until close. Sound on ext4, xfs and btrfs, whose sync_fs commits the journal
 * (transaction) and flushes the device cache. Everywhere else (ext2/ext3, tmpfs, NFS, FUSE,
 * overlayfs, other platforms) the store keeps its per-file fsyncs.
 */
import { ForgeError, LINUX_ERRNO } from '../base/errors.js';
import { openFsFlush, type FsFlushHandle } from '../io/fs-flush.js';

/** How a synced store makes objects durable: `'auto'` batches where sound, `'per-file'` never does. */
export type FlushChoice = 'auto' | 'per-file';

/** What a store does to make an object durable, and why (`store.flush`). */
export interface FlushState {
  /** `'syncfs'`: two syncfs per batch; `'per-file'`: fsync per object and per directory; `'off'`: `sync: false`. */
  mode: 'syncfs' | 'per-file' | 'off';
  /** The filesystem type of the objects directory, when known. */
  filesystem?: string;
  /** Why this mode. */
  reason: string;
  /** syncfs calls made so far. */
  syncfsCalls: number;
}

/** statfs f_type → name, for the filesystems whose syncfs is known to commit and flush. */
const SOUND: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'], // ext2/3/4 share this magic: mountinfo must say ext4 too
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
]);

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x01021994, 'tmpfs'],
  [0x6969, 'nfs'],
  [0x65735546, 'fuse'],
  [0x794c7630, 'overlayfs'],
  [0x858458f6, 'ramfs'],
  [0xff534d42, 'cifs'],
  [0x2fc12fc1, 'zfs'],
]);

/** The environment variable that chooses the flush when the option does not. */
export const FLUSH_ENV = 'FORGE_STORE_FLUSH';

/** The option, else FORGE_STORE_FLUSH, else `'auto'`; anything else is a configuration error. */
export function flushChoice(option: FlushChoice | undefined): FlushChoice {
  const env = process.env[FLUSH_ENV];
  const raw: string | undefined = option ?? (env === undefined || env === '' ? undefined : env.trim().toLowerCase());
  if (raw === undefined || raw === 'auto') return 'auto';
  if (raw === 'per-file') return 'per-file';
  const field = option !== undefined ? 'flush' : FLUSH_ENV;
  throw new ForgeError('configuration', `${field}: unknown store flush "${raw}"`, {
    context: { operation: 'open store', field },
    suggestions: [`Use 'auto' (batched syncfs where sound, the default) or 'per-file' (an fsync per object).`],
  });
}

/**
 * The flush policy of one store: decides the mode once (before the first write) and runs the
 * syncfs calls of batched mode.
 *
 * @example
 * ```ts
 * const flush = await BatchFlush.open('/srv/store/objects', true, 'auto');
 * if (flush.batched) await flush.flush('before rename'); // throws a ForgeError on a writeback error
 * await flush.close();
 * ```
 */
export class BatchFlush {
  private inFlight = 0;
  private closing = false;
  private idle: (() => void) | undefined;
  private calls = 0;

  private constructor(
    private readonly dir: string,
    private readonly handle: FsFlushHandle | undefined,
    private readonly base: Omit<FlushState, 'syncfsCalls'>,
  ) {}

  /** Decides the mode for the store whose objects directory is `dir`. */
  static async open(dir: string, sync: boolean, choice: FlushChoice): Promise<BatchFlush> {
    if (!sync) return new BatchFlush(dir, undefined, { mode: 'off', reason: 'sync: false (nothing is flushed)' });
    if (choice === 'per-file') return new BatchFlush(dir, undefined, { mode: 'per-file', reason: `flush 'per-file' chosen (option or ${FLUSH_ENV})` });
    const handle = await openFsFlush(dir);
    if (handle === undefined) {
      return new BatchFlush(dir, undefined, { mode: 'per-file', reason: `no syncfs on ${process.platform}: an fsync per object` });
    }
    const sound = SOUND.get(handle.magic);
    const fs = sound === 'ext4' ? handle.mountType : (sound ?? NAMES.get(handle.magic) ?? handle.mountType);
    if (sound !== undefined && (sound !== 'ext4' || handle.mountType === 'ext4')) {
      return new BatchFlush(dir, handle, { mode: 'syncfs', filesystem: sound, reason: `${sound}: syncfs commits the journal and flushes the device cache` });
    }
    handle.close();
    const what = fs ?? `filesystem type 0x${handle.magic.toString(16)}`;
    return new BatchFlush(dir, undefined, {
      mode: 'per-file',
      ...(fs !== undefined ? { filesystem: fs } : {}),
      reason: `${what}: batched syncfs is used only on ext4, xfs and btrfs; an fsync per object here`,
    });
  }

  /** Batches are flushed with syncfs (else the writer fsyncs per file, or not at all). */
  get batched(): boolean {
    return this.handle !== undefined;
  }

  state(): FlushState {
    return { ...this.base, syncfsCalls: this.calls };
  }

  /**
   * One syncfs of the store's filesystem; throws a ForgeError (category from the errno) when it
   * reports a writeback error, or when the store is closing.
   */
  async flush(step: 'before rename' | 'after rename'): Promise<void> {
    const h = this.handle;
    if (h === undefined) return;
    if (this.closing) {
      throw new ForgeError('filesystem', `store closed before its batch was flushed (${step}): the objects of the batch are not durable`, {
        context: { file: this.dir, operation: 'syncfs' },
        suggestions: ['Wait for puts to settle before closing the store, then put again.'],
      });
    }
    this.inFlight++;
    let res: number;
    try {
      res = await h.syncfs();
      this.calls++;
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
    if (res >= 0) return;
    const code = LINUX_ERRNO[-res] ?? `errno ${-res}`;
    throw new ForgeError(
      code === 'ENOSPC' || code === 'EDQUOT' ? 'storage' : 'filesystem',
      `syncfs of the store's filesystem failed (${step}): ${code}; no object of this batch is recorded as stored`,
      {
        context: { file: this.dir, operation: 'syncfs', code, errno: -res },
        suggestions: [
          'A write to this filesystem failed to reach the disk (I/O error, full disk or quota): check `dmesg` and free space, then put again.',
          `To isolate one store's errors from other writers on the same filesystem, set ${FLUSH_ENV}=per-file (or the store option flush: 'per-file').`,
        ],
      },
    );
  }

  /** Waits for a running syncfs, then closes the descriptor. Safe to call twice. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.handle?.close();
  }
}
