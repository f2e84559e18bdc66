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

/** Receives the CQEs of one id: the step tag (high half of user_data), the result, the CQE flags. */
export interface CqeTarget {
  onCqe(step: number, res: number, flags: number): void;
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
 * const id = loop.add({ onCqe: (step, res) => console.log(step, res) });
 * ring.prep(OP.NOP, -1, 0, 0, 0, 0, id, 0);
 * loop.expect(id, 1);
 * ring.submit(); loop.reapNow();
 * ```
 */
export class CompletionLoop {
  private readonly ring: Ring;
  private readonly afterReap: () => void;
  private entries: Array<CqeTarget | undefined> = [];
  /** Whether each id's CQEs keep the process alive (parallel to entries). */
  private refs: boolean[] = [];
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

  /**
   * Registers a target; returns its id (the low half of user_data). With `ref`
   * false, CQEs expected for it do not keep the process alive.
   */
  add(target: CqeTarget, ref = true): number {
    const id = this.freeIds.pop() ?? this.entries.length;
    this.entries[id] = target;
    this.refs[id] = ref;
    return id;
  }

  /** Targets still registered (work in flight), e.g. to keep their buffers alive after a forced close. */
  targets(): CqeTarget[] {
    const out: CqeTarget[] = [];
    for (const e of this.entries) if (e) out.push(e);
    return out;
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
    if (this.refs[id]) {
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
    if (this.refs[id]) {
      this.refd--;
      this.updateRef();
    }
    try {
      e.onCqe(step, res, flags);
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
