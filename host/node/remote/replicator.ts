/**
 * `forge watch --push <remote>`: pushes what was recorded every interval,
 * beside the recording and never in its way. A failed push (an outage) is
 * counted and logged, and the next interval tries again; recording goes on.
 * Metrics: `forge_remote_lag_seconds` (age of the oldest version not yet on
 * the remote), `forge_remote_push_errors_total{category}`, `forge_remote_pushes_total{result}`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { type ForgeError, toForgeError } from '../base/errors.js';
import type { Index } from '../index-db/index.js';
import { stmt } from '../index-db/statements.js';
import type { BlobStore } from '../store/blob-store.js';
import { RemoteClient } from './client.js';
import { readHead } from './heads.js';
import { push, pushHost, type PushResult } from './push.js';
import { findRemote, type RemoteSpec } from './spec.js';

export interface ReplicatorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ReplicatorOptions {
  index: Index;
  store: BlobStore;
  storeDir: string;
  remote: string;
  /** Time between pushes (default 30 s). */
  intervalMs?: number;
  host?: string;
  log: ReplicatorLog;
  /** Where the metrics go (the daemon's registry) and their name prefix (`forge_`). */
  registry?: Registry;
  prefix?: string;
  /** How long stop() lets a push in flight finish before abandoning it (default 5 s). */
  finishMs?: number;
}

/**
 * Periodic replication of one store to one remote.
 *
 * @example
 * ```ts
 * const r = await Replicator.start({ index, store, storeDir, remote: 'backup', log });
 * // ... later
 * await r.stop();
 * ```
 */
export class Replicator {
  private timer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  /** The newest seq known to be on the remote for this host. */
  private pushedSeq = 0;
  /** Time of the oldest version not yet pushed (undefined: none). */
  private oldestPendingMs: number | undefined;
  private readonly errors: Counter<'category'> | undefined;
  private readonly pushes: Counter<'result'> | undefined;
  /** The last push, for tests and logs. */
  last: PushResult | undefined;
  /** Why the last push failed (cleared by a push that succeeds): `forge watch --once --push` exits with it. */
  lastError: ForgeError | undefined;

  private constructor(
    private readonly opts: ReplicatorOptions,
    private readonly spec: RemoteSpec,
    private readonly host: string,
  ) {
    const p = opts.prefix ?? 'forge_';
    if (opts.registry) {
      const registers = [opts.registry];
      const self = this;
      new Gauge({
        name: `${p}remote_lag_seconds`,
        help: 'Age of the oldest recorded version not yet pushed to the remote (0 when up to date)',
        registers,
        collect() {
          this.set(self.oldestPendingMs === undefined ? 0 : Math.max(0, (Date.now() - self.oldestPendingMs) / 1000));
        },
      });
      this.errors = new Counter({
        name: `${p}remote_push_errors_total`,
        help: 'Failed pushes to the remote, by error category',
        labelNames: ['category'],
        registers,
      });
      this.pushes = new Counter({ name: `${p}remote_pushes_total`, help: 'Pushes to the remote, by result', labelNames: ['result'], registers });
    }
  }

  /** Checks the remote's name, then pushes at once and every interval. */
  static async start(opts: ReplicatorOptions): Promise<Replicator> {
    const spec = await findRemote(opts.index, opts.remote);
    const host = await pushHost(opts.index, opts.host);
    const r = new Replicator(opts, spec, host);
    const interval = opts.intervalMs ?? 30_000;
    r.timer = setInterval(() => r.kick(), interval);
    r.timer.unref();
    r.lagTimer = setInterval(() => void r.refreshLag(), Math.min(1000, interval));
    r.lagTimer.unref();
    await r.refreshLag();
    r.kick();
    return r;
  }

  private async refreshLag(): Promise<void> {
    try {
      const seq = this.pushedSeq;
      this.oldestPendingMs = await this.opts.index.connections.with(
        (db) => (stmt(db, 'SELECT min(time_ms) AS t FROM versions WHERE seq > ?').get(seq) as { t: number | null }).t ?? undefined,
        'remote lag',
      );
    } catch {
      /* the index is closing: the lag stays as it was */
    }
  }

  /** Resolves when the push in flight (if any) has ended. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Starts a push unless one is running. */
  kick(): void {
    if (this.stopped || this.inFlight) return;
    this.inFlight = this.pushOnce().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async pushOnce(): Promise<void> {
    const ac = new AbortController();
    this.abort = ac;
    let client: RemoteClient | undefined;
    try {
      client = await RemoteClient.connect(this.spec, {
        signal: ac.signal,
        retry: { logger: { warn: (o, m) => this.opts.log.warn({ ...o, remote: this.spec.name }, m) } },
      });
      if (this.pushedSeq === 0) this.pushedSeq = (await readHead(client, this.host))?.head.seq ?? 0;
      const r = await push(client, this.opts.index, this.opts.store, { host: this.host, storeDir: this.opts.storeDir });
      this.last = r;
      this.pushedSeq = r.headSeq;
      this.lastError = undefined;
      this.pushes?.inc({ result: 'ok' });
      if (!r.upToDate) {
        this.opts.log.info(
          {
            remote: this.spec.name,
            host: this.host,
            versions: r.versions,
            objects: r.objects,
            packs: r.packs,
            bytes: r.bytes,
            requests: r.requests.requests,
            ms: Math.round(r.ms),
          },
          `pushed ${r.versions} versions to ${this.spec.name}`,
        );
      }
      await this.refreshLag();
    } catch (e) {
      const err = toForgeError(e, { operation: 'push', remote: this.spec.name });
      this.pushes?.inc({ result: ac.signal.aborted ? 'abandoned' : 'error' });
      if (!ac.signal.aborted) {
        this.lastError = err;
        this.errors?.inc({ category: err.category });
        this.opts.log.warn(
          { remote: this.spec.name, category: err.category, err: err.message },
          `push to ${this.spec.name} failed (${err.category}); recording goes on, the next push retries`,
        );
      }
    } finally {
      client?.close();
      this.abort = undefined;
    }
  }

  /** Stops pushing: a push in flight may finish within `finishMs`, else it is abandoned (nothing it left is ever referenced half-written). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    const running = this.inFlight;
    if (!running) return;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (t = setTimeout(() => resolve('timeout'), this.opts.finishMs ?? 5000)));
    const outcome = await Promise.race([running.then(() => 'done' as const), timeout]);
    clearTimeout(t);
    if (outcome === 'timeout') {
      this.opts.log.warn({ remote: this.spec.name }, 'shutdown: abandoning the push in flight (it resumes on the next push)');
      this.abort?.abort();
      await running;
    }
  }
}
