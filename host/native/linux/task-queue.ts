/**
 * The scheduler's queue of file tasks: continuations (a task's next chain) are served before tasks
 * waiting for their first chain, each group in FIFO order.
 *
 * A task leaves the queue's array the moment it is taken: a finished task holds its result (up to
 * the whole file), so a taken slot that kept it would keep every result of the last few thousand
 * reads alive after the caller dropped them.
 */
import type { FileTask } from './sqe-chains.js';

/** How far the head may run before the array is compacted (amortised O(1) per take). */
const COMPACT_AFTER = 4096;

/**
 * FIFO of tasks waiting for a chain.
 *
 * @example
 * ```ts
 * const q = new TaskQueue();
 * q.push(task);
 * for (let t = q.peek(); t; t = q.peek()) { q.take(); start(t); }
 * ```
 */
export class TaskQueue {
  private fresh: Array<FileTask<unknown> | undefined> = [];
  private head = 0;
  private readonly again: Array<FileTask<unknown>> = [];

  /** Tasks waiting (first chains and continuations). */
  get size(): number {
    return this.fresh.length - this.head + this.again.length;
  }

  /** Queues a task for its first chain. */
  push(t: FileTask<unknown>): void {
    this.fresh.push(t);
  }

  /** Queues a task for its next chain (served before first chains). */
  pushAgain(t: FileTask<unknown>): void {
    this.again.push(t);
  }

  /** The task `take` would remove, or undefined. */
  peek(): FileTask<unknown> | undefined {
    return this.again[0] ?? this.fresh[this.head];
  }

  /** Removes the task `peek` returned, dropping every reference the queue had to it. */
  take(): void {
    if (this.again.length) {
      this.again.shift();
      return;
    }
    if (this.head >= this.fresh.length) return;
    this.fresh[this.head++] = undefined;
    if (this.head === this.fresh.length) {
      this.fresh = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
  }

  /** Removes and returns every waiting task (continuations first), e.g. to fail them. */
  drain(): Array<FileTask<unknown>> {
    const out = this.again.splice(0);
    for (let i = this.head; i < this.fresh.length; i++) out.push(this.fresh[i]!);
    this.fresh = [];
    this.head = 0;
    return out;
  }
}
