/**
 * Delivers a ring's CQEs to per-request callbacks without blocking the event
 * loop: libuv polls the ring fd (readable = CQ not empty) through
 * `koffi.node.poll`, and the callback reaps.
 *
 * The poll handle is ref()'d only while CQEs are expected from work that should
 * keep the process alive, and it is closed before the ring — at close() and at
 * process exit, since a poll callback during environment teardown aborts Node.
 */
import koffi from 'koffi';
import type { Ring } from './ring.js';

/** Receives one CQE: the step tag (high half of user_data), the result, the CQE flags. */
export type CompletionHandler = (step: number, res: number, flags: number) => void;

interface Entry {
  fn: CompletionHandler;
  ref: boolean;
}

type PollHandle = ReturnType<typeof koffi.node.poll>;

/** Closers of live loops, run at process exit. */
const live = new Set<() => void>();
let exitHookInstalled = false;
function onExit(close: () => void): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of [...live]) c();
    });
  }
  live.add(close);
}

/**
 * Maps user_data (low 32 bits) to callbacks and pumps CQEs to them.
 *
 * @example
 * ```ts
 * const loop = new CompletionLoop(ring, () => scheduler.pump());
 * const id = loop.add((step, res) => console.log(step, res));
 * ring.prep(OP.NOP, -1, 0, 0, 0, 0, id, 0);
 * loop.expect(id, 1);
 * ring.submit(); loop.reapNow();
 * ```
 */
export class CompletionLoop {
  private readonly ring: Ring;
  private readonly afterReap: () => void;
  private entries: Array<Entry | undefined> = [];
  private readonly freeIds: number[] = [];
  private poll: PollHandle | undefined;
  private refd = 0;
  private isRefd = false;
  private expected = 0;
  private readonly closer: () => void;
  /** Errors thrown by handlers (they must not stop the loop). */
  readonly handlerErrors: unknown[] = [];

  constructor(ring: Ring, afterReap: () => void) {
    this.ring = ring;
    this.afterReap = afterReap;
    this.poll = koffi.node.poll(ring.fd, { readable: true }, () => this.onReadable());
    this.poll.unref();
    this.closer = () => this.close();
    onExit(this.closer);
  }

  /** Registers a callback; returns its id (the low half of user_data). */
  add(fn: CompletionHandler, ref = true): number {
    const id = this.freeIds.pop() ?? this.entries.length;
    this.entries[id] = { fn, ref };
    return id;
  }

  /** Forgets an id once all its CQEs arrived. */
  remove(id: number): void {
    if (this.entries[id] === undefined) return;
    this.entries[id] = undefined;
    this.freeIds.push(id);
  }

  /** Announces `n` more CQEs for `id` (call when its SQEs are prepped). */
  expect(id: number, n: number): void {
    this.expected += n;
    if (this.entries[id]?.ref) {
      this.refd += n;
      this.updateRef();
    }
  }

  /** CQEs announced and not yet delivered: bounds what may be in flight (CQ size). */
  get outstanding(): number {
    return this.expected;
  }

  /** Reaps whatever is in the CQ right now (e.g. inline completions just after submit). */
  reapNow(): number {
    return this.ring.reap((udLow, udHigh, res, flags) => this.dispatch(udLow, udHigh, res, flags));
  }

  private onReadable(): void {
    this.reapNow();
    this.afterReap();
  }

  private dispatch(id: number, step: number, res: number, flags: number): void {
    const e = this.entries[id];
    this.expected--;
    if (e === undefined) return; // a CQE for a forgotten id (e.g. a cancel request): nothing waits for it
    if (e.ref) {
      this.refd--;
      this.updateRef();
    }
    try {
      e.fn(step, res, flags);
    } catch (err) {
      this.handlerErrors.push(err);
    }
  }

  private updateRef(): void {
    if (!this.poll) return;
    const want = this.refd > 0;
    if (want === this.isRefd) return;
    this.isRefd = want;
    if (want) this.poll.ref();
    else this.poll.unref();
  }

  get isClosed(): boolean {
    return this.poll === undefined;
  }

  /** Stops and closes the poll handle, then closes the ring. Safe to call twice. */
  close(): void {
    live.delete(this.closer);
    if (this.poll) {
      this.poll.stop();
      this.poll.close();
      this.poll = undefined;
    }
    this.ring.close();
  }
}
