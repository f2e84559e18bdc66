/**
 * The shutdown coordinator: graceful stop on SIGTERM/SIGINT, forced exit on a
 * second signal or after the timeout, emergency cleanup on crashes, and
 * isolation of failing components.
 *
 * Graceful shutdown runs the registered components' `stop()` phase by phase:
 *
 * 1. `intake`    — stop taking new work (watcher, metrics server, accept loops); `signal` aborts.
 *                  Idle handles (watcher fds) go here, so they are released at once.
 * 2. `drain`     — in-flight work finishes: everything passed to `track()` is awaited,
 *                  then the drain components stop (write queues, worker pools).
 * 3. `state`     — daemon state is saved.
 * 4. `resources` — index, io_uring ring, temp files.
 *
 * File handles: `releaseHandles(budgetMs)` hooks (e.g. `(ms) => resources.shutdown(ms)`)
 * start at the very beginning, in parallel with intake and drain, with a 1 s
 * budget (`handleReleaseMs`): work that already holds a handle can finish and
 * return it; acquisitions still queued are refused; anything still held after
 * the budget is force-released. The report's `handlesReleasedMs` says when.
 *
 * Then the coordinator logs `shutdown completed` (with the exit code and phase
 * timings), flushes and closes its logger, and exits:
 *
 * | outcome                                                        | exit |
 * |----------------------------------------------------------------|------|
 * | every stop() finished in time, no component failed            | 0    |
 * | a stop() threw, a component failed earlier, or `shutdown(…, {error})` | 1 |
 * | over `timeoutMs` (default 30 s): warning, then exit             | 2    |
 * | a second SIGTERM/SIGINT during shutdown: immediate exit         | 2    |
 * | uncaughtException / unhandledRejection: emergency cleanup       | 70   |
 *
 * Components in one phase stop one after another, in registration order.
 * `emergency()` hooks (ring, fds, temp files, index) run on crashes and forced
 * exits, bounded by `emergencyTimeoutMs` (default 2 s).
 *
 * A component that fails at run time (e.g. the watcher's fd dies) is reported
 * with `componentFailed(name, err)` (or wrapped in `supervise`): it is logged as
 * an error record, stopped on its own, removed from the shutdown list, and the
 * process keeps running.
 *
 * Daemon wiring:
 * ```ts
 * const shutdown = new Shutdown({ timeoutMs: cfg.shutdownTimeoutMs, logger: log });
 * shutdown.install();                                     // SIGTERM, SIGINT, crash handlers
 * shutdown.register({ name: 'watcher', phase: 'intake', stop: () => handle.close() });
 * shutdown.register({ name: 'metrics', phase: 'intake', stop: () => server.close() });
 * shutdown.register({ name: 'state', phase: 'state', stop: () => index.saveState(state) });
 * shutdown.register({ name: 'handles', phase: 'resources', releaseHandles: (ms) => resources.shutdown(ms) });
 * shutdown.register({ name: 'store', phase: 'resources', stop: () => store.close(), emergency: () => store.closeSync?.() });
 * shutdown.supervise('watcher', consume(handle));          // failure -> component stopped, process lives
 * for (…) { if (shutdown.stopping) break; shutdown.track(store.put(bytes)); }
 * ```
 */
import { EXIT_CODES } from '../base/exit-codes.js';
import { ForgeError, toForgeError } from '../base/errors.js';
import { logErrorTo, sayTo } from './shutdown-log.js';
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  SHUTDOWN_PHASES,
  type PhaseReport,
  type ShutdownComponent,
  type ShutdownLogger,
  type ShutdownOptions,
  type ShutdownReport,
} from './shutdown-types.js';

export {
  SHUTDOWN_PHASES,
  type PhaseReport,
  type ShutdownComponent,
  type ShutdownLogger,
  type ShutdownOptions,
  type ShutdownPhase,
  type ShutdownReport,
} from './shutdown-types.js';

/**
 * Coordinates graceful shutdown, forced exits and crash cleanup.
 *
 * @example
 * ```ts
 * const s = new Shutdown({ logger: log, timeoutMs: 30_000 }).install();
 * s.register({ name: 'index', phase: 'resources', stop: () => db.close(), emergency: () => db.close() });
 * ```
 */
export class Shutdown {
  readonly timeoutMs: number;
  readonly emergencyTimeoutMs: number;
  readonly handleReleaseMs: number;
  private readonly logger: ShutdownLogger | undefined;
  private readonly closeLogger: boolean;
  private readonly exitFn: (code: number) => void;
  private readonly signals: NodeJS.Signals[];
  private readonly components: ShutdownComponent[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly failed = new Set<string>();
  private readonly intake = new AbortController();
  private started: number | undefined;
  private exited = false;
  private crashing = false;
  private installed = false;
  private resolveDone!: (code: number) => void;
  /** Resolves with the exit code once an exit has been decided. */
  readonly done: Promise<number>;
  private readonly onSignal = (sig: NodeJS.Signals): void => this.handleSignal(sig);
  private readonly onException = (err: unknown, origin?: string): void => {
    void this.crash(err, origin ?? 'uncaughtException');
  };
  private readonly onRejection = (reason: unknown): void => {
    void this.crash(reason, 'unhandledRejection');
  };

  constructor(opts: ShutdownOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.emergencyTimeoutMs = opts.emergencyTimeoutMs ?? 2000;
    this.handleReleaseMs = opts.handleReleaseMs ?? 1000;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new ForgeError('configuration', `shutdown timeout must be a positive number of ms, got ${this.timeoutMs}`);
    }
    this.logger = opts.logger;
    this.closeLogger = opts.closeLogger ?? true;
    this.exitFn = opts.exit ?? ((code) => process.exit(code));
    this.signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Installs the signal and crash handlers. Returns this. */
  install(): this {
    if (this.installed) return this;
    this.installed = true;
    for (const s of this.signals) process.on(s, this.onSignal);
    process.on('uncaughtException', this.onException);
    process.on('unhandledRejection', this.onRejection);
    return this;
  }

  /**
   * What a signal does: the first starts a graceful shutdown, a second one
   * (while shutting down) forces exit 2 at once. install() routes real signals here.
   */
  handleSignal(sig: NodeJS.Signals): void {
    if (this.started === undefined) void this.shutdown(sig);
    else this.forceExit(`second signal ${sig}`);
  }

  /** Removes the handlers install() added. */
  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    for (const s of this.signals) process.off(s, this.onSignal);
    process.off('uncaughtException', this.onException);
    process.off('unhandledRejection', this.onRejection);
  }

  /** Adds a component; returns a function that removes it. */
  register(component: ShutdownComponent): () => void {
    if (!(SHUTDOWN_PHASES as readonly string[]).includes(component.phase)) {
      throw new ForgeError('validation', `unknown shutdown phase "${component.phase}" (use ${SHUTDOWN_PHASES.join(', ')})`);
    }
    this.components.push(component);
    return () => {
      const i = this.components.indexOf(component);
      if (i >= 0) this.components.splice(i, 1);
    };
  }

  /** True once shutdown has started: take no new work. */
  get stopping(): boolean {
    return this.started !== undefined;
  }

  /** Aborts when shutdown starts (pass it to loops and watchers). */
  get signal(): AbortSignal {
    return this.intake.signal;
  }

  /** Names of components that failed at run time or in stop(). */
  get failedComponents(): string[] {
    return [...this.failed];
  }

  /** In-flight operations not yet settled. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * Registers in-flight work (e.g. a put); the drain phase waits for it.
   * Returns the same promise.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const drop = (): void => void this.inflight.delete(work);
    work.then(drop, drop);
    return work;
  }

  /**
   * Reports a component that failed at run time: logs the error record, stops
   * that component alone and keeps the process running.
   */
  async componentFailed(name: string, err: unknown): Promise<void> {
    this.failed.add(name);
    const fe = toForgeError(err, { operation: name, component: name });
    this.logError(fe, { component: name });
    const own = this.components.filter((c) => c.name === name);
    for (const c of own) {
      this.components.splice(this.components.indexOf(c), 1);
      try {
        await c.stop?.(`component failure: ${fe.message}`);
      } catch (e) {
        this.logError(e, { component: name, operation: 'stop after failure' });
      }
    }
    this.say('warn', { component: name, category: fe.category }, `component ${name} stopped after a failure; Forge keeps running`);
  }

  /**
   * Watches a long-running task; if it rejects, the component is failed (not the process).
   * Once shutdown has started, a rejection is the expected end of a component being
   * closed: it is logged at info and does not count as a failure.
   *
   * @example
   * ```ts
   * void shutdown.supervise('watcher', (async () => { for await (const batch of handle) await record(batch); })());
   * ```
   */
  supervise<T>(name: string, task: Promise<T>): Promise<T | undefined> {
    return task.catch(async (e: unknown) => {
      if (this.stopping) {
        this.say('info', { component: name, reason: e instanceof Error ? e.message : String(e) }, `component ${name} ended during shutdown`);
        return undefined;
      }
      await this.componentFailed(name, e);
      return undefined;
    });
  }

  /**
   * Runs the graceful shutdown and exits. Resolves with the exit code (the
   * exit function has been called by then). A second call returns the same outcome.
   */
  async shutdown(reason = 'request', opts: { error?: unknown } = {}): Promise<number> {
    if (this.started !== undefined) return this.done;
    this.started = Date.now();
    const t0 = this.started;
    if (opts.error !== undefined) this.logError(opts.error, { operation: 'shutdown' });
    this.say('info', { reason, timeoutMs: this.timeoutMs, inflight: this.inflight.size }, `shutdown started (${reason})`);
    // Not unref'd: once intake has closed servers and watchers, a hook stuck on a
    // promise with no pending I/O would otherwise let Node exit 0 unnoticed.
    const timer = setTimeout(() => this.onTimeout(), this.timeoutMs);
    this.intake.abort(new ForgeError('unknown', `shutting down (${reason})`, { retryable: false }));
    const phases: PhaseReport[] = [];
    let handlesReleasedMs: number | undefined;
    let hookFailed = false;
    // Handle release starts now, in parallel with intake and drain (its own 1 s budget).
    const releasers = this.components.filter((c) => c.releaseHandles);
    const released = Promise.all(
      releasers.map(async (c) => {
        try {
          await c.releaseHandles!(this.handleReleaseMs);
        } catch (e) {
          this.failed.add(c.name);
          hookFailed = true;
          this.logError(e, { component: c.name, operation: 'release handles' });
        }
      }),
    ).then(() => {
      handlesReleasedMs = Date.now() - t0;
      if (handlesReleasedMs > this.handleReleaseMs) {
        this.say(
          'warn',
          { handlesReleasedMs, budgetMs: this.handleReleaseMs },
          `handles released after ${handlesReleasedMs} ms (budget ${this.handleReleaseMs} ms)`,
        );
      }
    });
    for (const phase of SHUTDOWN_PHASES) {
      const p0 = Date.now();
      const failed: string[] = [];
      if (phase === 'drain') await this.drain();
      if (phase === 'resources') await released;
      for (const c of this.components.filter((x) => x.phase === phase)) {
        if (this.exited) return this.done;
        try {
          await c.stop?.(reason);
        } catch (e) {
          failed.push(c.name);
          this.failed.add(c.name);
          hookFailed = true;
          this.logError(e, { component: c.name, operation: `stop (${phase})` });
        }
      }
      if (this.exited) return this.done;
      phases.push({ phase, durationMs: Date.now() - p0, failed });
      if (phase === 'resources' && releasers.length === 0) handlesReleasedMs = Date.now() - t0;
    }
    clearTimeout(timer);
    const clean = !hookFailed && this.failed.size === 0 && opts.error === undefined;
    const exitCode = clean ? EXIT_CODES.OK : EXIT_CODES.RUNTIME;
    const report: ShutdownReport = {
      reason,
      exitCode,
      clean,
      durationMs: Date.now() - t0,
      phases,
      failedComponents: [...this.failed],
      handlesReleasedMs,
    };
    this.finish(exitCode, () => this.say('info', { ...report }, clean ? 'shutdown completed' : 'shutdown completed with errors'));
    return exitCode;
  }

  /** Emergency path for crashes: cleanup hooks, error record, exit 70. */
  async crash(err: unknown, origin = 'uncaughtException'): Promise<number> {
    if (this.exited) return this.done;
    if (this.crashing) {
      // A further crash while cleaning up: record it, but clean up only once.
      this.logError(err, { operation: origin, fatal: true, duringEmergencyCleanup: true });
      return this.done;
    }
    this.crashing = true;
    this.started ??= Date.now();
    this.intake.abort(err);
    this.logError(err, { operation: origin, fatal: true });
    await this.runEmergency();
    this.finish(EXIT_CODES.INTERNAL, () => this.logger?.error({ origin, exitCode: EXIT_CODES.INTERNAL }, 'emergency cleanup done; exiting'));
    return EXIT_CODES.INTERNAL;
  }

  /** Immediate exit 2 (second signal): emergency hooks get no time beyond their synchronous part. */
  forceExit(why: string): void {
    if (this.exited) return;
    this.say('warn', { why, exitCode: EXIT_CODES.FORCED }, `forced shutdown: ${why}`);
    for (const c of this.components) {
      try {
        void Promise.resolve(c.emergency?.()).catch(() => undefined);
      } catch {
        // Nothing more can be done on a forced exit.
      }
    }
    this.finish(EXIT_CODES.FORCED);
  }

  private onTimeout(): void {
    if (this.exited) return;
    const pending = this.inflight.size;
    this.say(
      'warn',
      { timeoutMs: this.timeoutMs, inflight: pending, exitCode: EXIT_CODES.FORCED },
      `shutdown did not finish within ${this.timeoutMs} ms; forcing exit`,
    );
    void this.runEmergency().then(() => this.finish(EXIT_CODES.FORCED));
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0 && !this.exited) await Promise.allSettled([...this.inflight]);
  }

  private async runEmergency(): Promise<void> {
    const hooks = this.components.filter((c) => c.emergency);
    const all = (async () => {
      for (const c of hooks) {
        try {
          await c.emergency!();
        } catch (e) {
          this.logError(e, { component: c.name, operation: 'emergency cleanup' });
        }
      }
    })();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (t = setTimeout(r, this.emergencyTimeoutMs)))]);
    clearTimeout(t);
  }

  private finish(code: number, lastLine?: () => void): void {
    if (this.exited) return;
    this.exited = true;
    try {
      lastLine?.();
      this.logger?.flush?.();
      if (this.closeLogger) this.logger?.close?.();
    } catch {
      // A broken log sink must not block the exit.
    }
    this.uninstall();
    this.resolveDone(code);
    this.exitFn(code);
  }

  private say(level: 'info' | 'warn', obj: object, msg: string): void {
    sayTo(this.logger, level, obj, msg);
  }

  private logError(err: unknown, context: Record<string, unknown>): void {
    logErrorTo(this.logger, err, context);
  }
}
