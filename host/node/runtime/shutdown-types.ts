/**
 * The shutdown coordinator's vocabulary: its phases, what a component registers,
 * its options and the report of a shutdown (the coordinator is in shutdown.ts).
 */
/** The shutdown phases, in the order they run. */
export const SHUTDOWN_PHASES = ['intake', 'drain', 'state', 'resources'] as const;
/** One of {@link SHUTDOWN_PHASES}. */
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** A part of the process that the shutdown coordinator (`Shutdown`) stops in its phase. */
export interface ShutdownComponent {
  name: string;
  phase: ShutdownPhase;
  /** Graceful stop. */
  stop?: (reason: string) => Promise<void> | void;
  /** Crash/forced-exit cleanup: release what must not leak (ring, fds, temp files, index). Keep it quick. */
  emergency?: () => Promise<void> | void;
  /**
   * Called at the very start of shutdown, alongside intake and drain, with the
   * handle-release budget (default 1000 ms): e.g. `(ms) => resources.shutdown(ms)`,
   * which refuses queued acquisitions, lets held handles come back and
   * force-releases the rest when the budget is spent. The resources phase waits for it.
   */
  releaseHandles?: (budgetMs: number) => Promise<void> | void;
}

/** The logging this module needs (a ForgeLogger fits). */
export interface ShutdownLogger {
  /** Logs at info level. */
  info(obj: object, msg?: string): void;
  /** Logs at warn level. */
  warn(obj: object, msg?: string): void;
  /** Logs at error level. */
  error(obj: object, msg?: string): void;
  /** Logs an error with its category and context, when supported. */
  logError?(err: unknown, context?: Record<string, unknown>): unknown;
  /** Writes buffered lines out before exit. */
  flush?(): void;
  /** Closes the log destination after the final line. */
  close?(): void;
}

/** Options of the shutdown coordinator (`Shutdown`): budgets, logger, exit function and signals. */
export interface ShutdownOptions {
  /** Graceful shutdown budget. Default 30 000 ms. */
  timeoutMs?: number;
  /** Budget for emergency hooks on crashes/forced exits. Default 2000 ms. */
  emergencyTimeoutMs?: number;
  /** Budget given to `releaseHandles` hooks. Default 1000 ms. */
  handleReleaseMs?: number;
  logger?: ShutdownLogger;
  /** Close the logger after the final line. Default true. */
  closeLogger?: boolean;
  /** How to exit. Default `process.exit`. Tests pass a recorder. */
  exit?: (code: number) => void;
  /** Signals that start a graceful shutdown. Default SIGTERM, SIGINT. */
  signals?: NodeJS.Signals[];
}

/** How one shutdown phase went. */
export interface PhaseReport {
  phase: ShutdownPhase;
  durationMs: number;
  /** Components whose stop() threw. */
  failed: string[];
}

/** How a shutdown went: reason, exit code and each phase. */
export interface ShutdownReport {
  reason: string;
  exitCode: number;
  clean: boolean;
  durationMs: number;
  phases: PhaseReport[];
  failedComponents: string[];
  /**
   * ms from shutdown start until handles were released: when every
   * `releaseHandles` hook finished, or (without such hooks) the end of the resources phase.
   */
  handlesReleasedMs?: number;
}
