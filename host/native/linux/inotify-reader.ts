/**
 * How the inotify fd's bytes reach the watcher. The production path is an
 * io_uring READ on the same ring and poll as file I/O (the io_uring backend's
 * `readFd`); the poll(2) reader is for a watch started without that backend.
 */
import { inotifyBindings, pollReadable, type PollHandleLike } from './inotify.js';

const EAGAIN = 11;
const EINTR = 4;
const ECANCELED = 125;
const EBADF = 9;
/** How long close() waits for the READ's cancellation to complete. */
const CANCEL_WAIT_MS = 5000;

/** What the io_uring backend offers for reading a plain fd (see io-uring-backend.ts). */
export interface FdReadSource {
  /** One io_uring READ on `fd` into `buf`; resolves to bytes read or -errno, never throws. */
  readFd(fd: number, buf: Buffer): Promise<number>;
  /** Cancels the READ pending on `fd` (IORING_OP_ASYNC_CANCEL); resolves once it completed. */
  cancelFd?(fd: number): Promise<void>;
}

export interface InotifyReader {
  /** Whether the inotify fd must be blocking (io_uring waits inside the kernel) or non-blocking (poll + read). */
  readonly wantsBlockingFd: boolean;
  /** A short name for stats and logs. */
  readonly name: string;
  /** Starts delivering: `onData(n)` after each read of `n` bytes into `buf`. */
  start(fd: number, buf: Buffer, onData: (n: number) => void, onError: (negErrno: number) => void): void;
  /** Stops; resolves once no read is pending and `buf` is no longer written. */
  close(): Promise<void>;
}

/**
 * Reads through io_uring: one READ in flight at a time, re-armed after each completion.
 *
 * @example
 * ```ts
 * const reader = new UringInotifyReader(ioUringBackend); // needs a blocking inotify fd
 * reader.start(fd, buf, (n) => decodeInotifyEvents(buf, n), (e) => console.error(e));
 * ```
 */
export class UringInotifyReader implements InotifyReader {
  readonly wantsBlockingFd = true;
  readonly name = 'io_uring';
  private closed = false;
  private loop: Promise<void> | undefined;
  private fd = -1;

  constructor(private readonly io: FdReadSource) {}

  start(fd: number, buf: Buffer, onData: (n: number) => void, onError: (negErrno: number) => void): void {
    this.fd = fd;
    this.loop = (async () => {
      while (!this.closed) {
        const n = await this.io.readFd(fd, buf);
        if (this.closed) return;
        if (n > 0) onData(n);
        else if (n === -EINTR || n === -EAGAIN || n === 0) continue;
        else {
          if (n !== -ECANCELED && n !== -EBADF) onError(n);
          return;
        }
      }
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return this.loop;
    this.closed = true;
    // Bounded: a ring that stopped delivering completions must not hang close(). The pending
    // READ keeps `buf` referenced inside the backend until its CQE, so giving up is memory-safe.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((r) => (timer = setTimeout(r, CANCEL_WAIT_MS)));
    try {
      const done = (async () => {
        if (this.fd >= 0 && this.io.cancelFd) await this.io.cancelFd(this.fd);
        await this.loop;
      })();
      await Promise.race([done, giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Reads with koffi.node.poll readiness on a non-blocking fd plus read(2).
 *
 * @example
 * ```ts
 * new PollInotifyReader().start(fd, buf, (n) => decodeInotifyEvents(buf, n), (e) => console.error(e));
 * ```
 */
export class PollInotifyReader implements InotifyReader {
  readonly wantsBlockingFd = false;
  readonly name = 'poll';
  private handle: PollHandleLike | undefined;

  start(fd: number, buf: Buffer, onData: (n: number) => void, onError: (negErrno: number) => void): void {
    const b = inotifyBindings();
    this.handle = pollReadable(fd, () => {
      for (;;) {
        const n = b.read(fd, buf, buf.length);
        if (n > 0) {
          onData(n);
          continue;
        }
        if (n === -EINTR) continue;
        if (n !== -EAGAIN && n !== 0) onError(n);
        return;
      }
    });
  }

  async close(): Promise<void> {
    this.handle?.close();
    this.handle = undefined;
  }
}
