/**
 * Forge's metrics (prom-client), on a registry of their own (not the global one).
 *
 * | name (default prefix `forge_`)          | type      | labels               | meaning |
 * |-----------------------------------------|-----------|----------------------|---------|
 * | `forge_files_watched`                   | gauge     |                      | files under watch now |
 * | `forge_operations_total`                | counter   | op, backend, result  | operations finished; result = ok \| error |
 * | `forge_operations_per_second`           | gauge     |                      | operations finished in the last `windowMs` (default 10 s) / window seconds |
 * | `forge_io_latency_seconds`              | histogram | op, backend          | operation durations |
 * | `forge_cache_lookups_total`             | counter   | kind, result         | kind = read \| put, result = hit \| miss |
 * | `forge_cache_hit_rate`                  | gauge     |                      | hits / lookups over both kinds; 0 before any lookup |
 * | `forge_errors_total`                    | counter   | category             | errors logged, by ForgeError category (all 9 present from the start) |
 * | `forge_retries_total`                   | counter   | op, code             | retries made (a failed attempt followed by another), by operation and error code (the category when there is no code) |
 *
 * Cache hit rate, defined: a *hit* is an object lookup that needed no disk
 * transfer of the object's bytes — a `get` served from memory (kind `read`), or
 * a `put` whose content was already stored and verified, so nothing was written
 * (dedup, kind `put`). A *miss* is a `get` that read the disk or a `put` that
 * wrote a new object. `forge_cache_hit_rate = hits / (hits + misses)`, in [0, 1].
 *
 * Daemon wiring:
 * ```ts
 * const metrics = new Metrics();
 * const log = createLogger({ metrics, … });          // timed() and error logs feed it
 * metrics.setFilesWatched(handle.stats().files);
 * metrics.recordCacheLookup('put', existed);
 * const server = await startMetricsServer(metrics, { address: cfg.metricsAddress });
 * ```
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CATEGORIES, type ErrorCategory } from '../base/errors.js';
import type { OperationRecorder } from './logging.js';

/** Options of the {@link Metrics} registry. */
export interface MetricsOptions {
  /** Prefix of every metric name. Default `forge_`. */
  prefix?: string;
  /** Sliding window for operations per second. Default 10 000 ms. */
  windowMs?: number;
  /** Histogram buckets in seconds. Default 0.1 ms … 10 s. */
  latencyBuckets?: number[];
  /** Also export prom-client's process metrics (CPU, memory, fds). Default false. */
  processMetrics?: boolean;
  /** Millisecond clock for the ops/s window (tests). Default Date.now. */
  now?: () => number;
}

export const DEFAULT_LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * The metric set of one Forge process.
 *
 * @example
 * ```ts
 * const m = new Metrics();
 * m.observeOperation('put', 'io_uring', 'ok', 1.7);
 * console.log(await m.prometheusText());
 * ```
 */
export class Metrics implements OperationRecorder {
  readonly registry: Registry;
  readonly prefix: string;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly filesWatched: Gauge;
  private readonly operations: Counter<'op' | 'backend' | 'result'>;
  private readonly latency: Histogram<'op' | 'backend'>;
  private readonly cacheLookups: Counter<'kind' | 'result'>;
  private readonly errors: Counter<'category'>;
  private readonly retries: Counter<'op' | 'code'>;
  /** Completion times of recent operations, grouped per second: [second, count]. */
  private window: Array<[number, number]> = [];
  private hits = 0;
  private misses = 0;

  constructor(opts: MetricsOptions = {}) {
    this.prefix = opts.prefix ?? 'forge_';
    this.windowMs = opts.windowMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    const registers = [(this.registry = new Registry())];
    const p = this.prefix;
    this.filesWatched = new Gauge({ name: `${p}files_watched`, help: 'Files under watch', registers });
    this.operations = new Counter({
      name: `${p}operations_total`,
      help: 'Operations finished, by operation, backend and result (ok|error)',
      labelNames: ['op', 'backend', 'result'] as const,
      registers,
    });
    const self = this;
    new Gauge({
      name: `${p}operations_per_second`,
      help: `Operations finished per second over a sliding window of ${this.windowMs} ms`,
      registers,
      collect() {
        this.set(self.opsPerSecond());
      },
    });
    this.latency = new Histogram({
      name: `${p}io_latency_seconds`,
      help: 'Operation latency in seconds',
      labelNames: ['op', 'backend'] as const,
      buckets: opts.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS,
      registers,
    });
    this.cacheLookups = new Counter({
      name: `${p}cache_lookups_total`,
      help: 'Object lookups: kind=read (get served from memory = hit) or put (already stored = dedup hit)',
      labelNames: ['kind', 'result'] as const,
      registers,
    });
    new Gauge({
      name: `${p}cache_hit_rate`,
      help: 'Object lookups that needed no disk transfer (memory-served gets + dedup puts) / all lookups; 0 before any',
      registers,
      collect() {
        this.set(self.cacheHitRate());
      },
    });
    this.errors = new Counter({
      name: `${p}errors_total`,
      help: 'Errors by ForgeError category',
      labelNames: ['category'] as const,
      registers,
    });
    this.retries = new Counter({
      name: `${p}retries_total`,
      help: 'Retries of transiently failing operations, by operation and error code',
      labelNames: ['op', 'code'] as const,
      registers,
    });
    this.initErrorSeries();
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  private initErrorSeries(): void {
    for (const c of ERROR_CATEGORIES) this.errors.inc({ category: c }, 0);
  }

  /** Sets the gauge of files currently watched. */
  setFilesWatched(n: number): void {
    this.filesWatched.set(n);
  }

  /** One finished operation: counts it, observes its latency, feeds the ops/s window. */
  observeOperation(op: string, backend: string, result: 'ok' | 'error', durationMs: number): void {
    this.operations.inc({ op, backend, result });
    this.latency.observe({ op, backend }, Math.max(0, durationMs) / 1000);
    const sec = Math.floor(this.now() / 1000);
    const last = this.window[this.window.length - 1];
    if (last && last[0] === sec) last[1]++;
    else this.window.push([sec, 1]);
    this.prune();
  }

  /** A get (`read`) served from memory or not, or a put (`put`) that was a dedup hit or not. */
  recordCacheLookup(kind: 'read' | 'put', hit: boolean): void {
    this.cacheLookups.inc({ kind, result: hit ? 'hit' : 'miss' });
    if (hit) this.hits++;
    else this.misses++;
  }

  /** Counts an error of `category`. */
  recordError(category: ErrorCategory): void {
    this.errors.inc({ category });
  }

  /** One retry of `op` after an error with `code` (`SQLITE_BUSY`, `EAGAIN`, or the category). */
  recordRetry(op: string, code: string): void {
    this.retries.inc({ op, code });
  }

  private prune(): void {
    const oldest = Math.floor((this.now() - this.windowMs) / 1000);
    let i = 0;
    while (i < this.window.length && this.window[i]![0] <= oldest) i++;
    if (i > 0) this.window.splice(0, i);
  }

  /** Operations finished within the last `windowMs`, per second (second granularity). */
  opsPerSecond(): number {
    this.prune();
    let n = 0;
    for (const [, c] of this.window) n += c;
    return n / (this.windowMs / 1000);
  }

  /** Cache hits over all lookups so far (0 before any lookup). */
  cacheHitRate(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  /** Prometheus text exposition format (version 0.0.4). */
  prometheusText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** prom-client's JSON form: `[{ name, help, type, values: [{ labels, value }] }]`. */
  json(): Promise<unknown[]> {
    return this.registry.getMetricsAsJSON();
  }

  /** Zeroes everything (tests, `forge stats --reset`). */
  reset(): void {
    this.registry.resetMetrics();
    this.window = [];
    this.hits = 0;
    this.misses = 0;
    this.initErrorSeries();
  }
}
