/**
 * The kernel objects Forge itself opened by raw syscall (io_uring rings), by fd number. Node's own
 * libuv may hold rings of its own in the same process (Node 22 and later do, per event loop and per
 * worker thread), so an fd's target alone cannot say whose it is: the exit report asks this registry.
 */
const owned = new Map<number, string>();

/** Records that `fd` was opened by Forge (what: e.g. `io_uring`) and must be closed by it. */
export function ownFd(fd: number, what: string): void {
  owned.set(fd, what);
}

/** Forgets `fd` when Forge closes it. */
export function releaseFd(fd: number): void {
  owned.delete(fd);
}

/** The fds Forge opened and has not closed yet, with what each is. */
export function ownedFds(): ReadonlyMap<number, string> {
  return owned;
}
