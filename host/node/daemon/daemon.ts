/**
 * `forge watch`: the daemon. Wiring, in order:
 *
 * 1. logger, metrics, shutdown coordinator (SIGTERM/SIGINT → graceful stop, exit 0);
 * 2. platform I/O, blob store, index (each registered for shutdown);
 * 3. the watcher is started first, so nothing changed during the scan is lost;
 * 4. reconcile: the initial scan (first start) or the catch-up (restart), with progress;
 * 5. the "ready" line on stdout; then each coalesced batch of changes is recorded.
 */
import path from 'node:path';
import type { ForgeConfig } from '../runtime/config/schema.js';
import { ForgeError, toForgeError } from '../base/errors.js';
import { Index } from '../index-db/index.js';
import { createLogger, type ForgeLogger } from '../runtime/logging.js';
import { Metrics } from '../runtime/metrics.js';
import { startMetricsServer, type MetricsServer } from '../runtime/metrics-server.js';
import { Shutdown } from '../runtime/shutdown.js';
import { Progress } from '../term/progress.js';
import { formatBytes, formatDuration, reportError } from '../term/output.js';
import { indexFileOf } from '../history/store-files.js';
import type { BatchReadOptions } from '../base/platform-io.js';
import type { PutFileOptions } from '../store/blob-store.js';
import { openContentStore } from '../history/content-store.js';
import { DEFAULT_SCAN_BATCH_FILES, DEFAULT_SCAN_BATCH_MIB, DEFAULT_SCAN_CONCURRENCY, HistoryRecorder, type BatchReader } from '../history/record.js';
import { openPlatformIO } from '../io/open-platform.js';
import { lockStore } from '../history/store-lock.js';
import { reconcile, type ReconcileResult } from '../history/reconcile.js';
import { daemonIgnore, type WalkOptions } from '../history/tree-scan.js';
import { batchRunner, diskFullError, isDiskFull } from '../history/batch-retry.js';
import { cleanRestoreTemps, cleanStoreTemps, RESTORE_TEMP_PATH_RE } from '../history/housekeeping.js';
import { installRetryReporting } from '../runtime/retry-reporting.js';
import { openFdReport } from './fd-report.js';
import { applyDaemonV8Flags } from './v8-flags.js';
import { memoryFigures } from './memory.js';

export interface DaemonOptions {
  config: ForgeConfig;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Run the scan, print the summary and exit instead of watching (used by `--once`). */
  once?: boolean;
  debug?: boolean;
  /** `json` forces JSON records on stderr even on a terminal (default: human lines on a TTY). */
  logFormat?: 'json' | 'human';
  /** Whether metricsAddress was set explicitly (file, env or flag) rather than defaulted. */
  metricsAddressConfigured?: boolean;
  /** `--push <remote>`: replicate to this remote every `intervalMs` (host/node/remote/replicator.ts). */
  push?: { remote: string; intervalMs: number };
}

/** The largest FORGE_SCAN_CONCURRENCY accepted. */
export const MAX_SCAN_CONCURRENCY = 64;

/** The largest FORGE_SCAN_BATCH_FILES accepted. */
export const MAX_SCAN_BATCH_FILES = 65_536;

/** The largest FORGE_SCAN_BATCH_MIB accepted. */
export const MAX_SCAN_BATCH_MIB = 1024;

/** A whole number from `min` to `max` read from `env[name]`, or `fallback` when unset; anything else is a configuration error. */
function envInteger(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ForgeError('configuration', `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`, {
      context: { operation: 'scan', field: name },
      suggestions: [`Unset it for the default (${fallback}), or set a whole number of ${unit} from ${min} to ${max}.`],
    });
  }
  return n;
}

/**
 * Read/store batches the scan keeps in flight: FORGE_SCAN_CONCURRENCY (1..64), default
 * {@link DEFAULT_SCAN_CONCURRENCY}. Memory held for file contents is at most this many batches
 * (each at most {@link scanBatchFiles} files and {@link scanBatchBytes} bytes).
 */
export function scanConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return envInteger(env, 'FORGE_SCAN_CONCURRENCY', 1, MAX_SCAN_CONCURRENCY, DEFAULT_SCAN_CONCURRENCY, 'batches');
}

/**
 * Files per read/store batch: FORGE_SCAN_BATCH_FILES (1..65536), default
 * {@link DEFAULT_SCAN_BATCH_FILES}. A larger batch shares one store write pass, and one fsync per
 * touched fan-out directory, among more files; its bytes stay bounded by {@link scanBatchBytes}.
 */
export function scanBatchFiles(env: NodeJS.ProcessEnv = process.env): number {
  return envInteger(env, 'FORGE_SCAN_BATCH_FILES', 1, MAX_SCAN_BATCH_FILES, DEFAULT_SCAN_BATCH_FILES, 'files');
}

/**
 * Bytes per read/store batch, in MiB: FORGE_SCAN_BATCH_MIB (1..1024), default
 * {@link DEFAULT_SCAN_BATCH_MIB}. With FORGE_SCAN_CONCURRENCY it bounds the file contents held at once.
 */
export function scanBatchBytes(env: NodeJS.ProcessEnv = process.env): number {
  return envInteger(env, 'FORGE_SCAN_BATCH_MIB', 1, MAX_SCAN_BATCH_MIB, DEFAULT_SCAN_BATCH_MIB, 'MiB') * 2 ** 20;
}

/** The line tests and scripts wait for. */
export const READY_PREFIX = 'forge: ready';

function summaryLine(r: ReconcileResult): string {
  const t = r.tally;
  const what = r.firstScan ? 'initial scan' : 'catch-up';
  return (
    `forge: ${what}: ${r.walk.files} files (${formatBytes(r.walk.totalBytes)}) in ${r.walk.directories} directories, ` +
    `${formatDuration(r.durationMs)}: ${t.recorded - t.removed} recorded, ${r.plan.unchanged + t.unchanged} unchanged, ${t.removed} removed` +
    (t.failed > 0 ? `, ${t.failed} unreadable` : '') +
    (r.walk.skipped > 0 ? `, ${r.walk.skipped} skipped (not regular files)` : '')
  );
}

/**
 * Runs the daemon until a signal stops it; resolves to the exit code (the
 * shutdown coordinator also exits the process with it).
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  // Set by the launcher before the CLI loaded (bin/forge.js); here only for embedders (v8-flags.ts).
  const v8FlagsSetBy = applyDaemonV8Flags('daemon');
  const cfg = opts.config;
  const root = path.resolve(cfg.watchRoot);
  const storeDir = path.resolve(cfg.storeDir);
  const metrics = new Metrics();
  const log: ForgeLogger = createLogger({
    level: cfg.logLevel,
    ...(cfg.logFile !== undefined ? { file: cfg.logFile } : {}),
    rotateBytes: cfg.logRotateBytes,
    maxFiles: cfg.logMaxFiles,
    slowOperationMs: cfg.slowOperationMs,
    ...(opts.logFormat !== undefined ? { format: opts.logFormat } : {}),
    stacks: opts.debug ?? false,
    metrics,
    bindings: { component: 'daemon' },
  });
  // A startup failure exits with the failure's own code (78 for configuration) after cleanup.
  let exitOverride: number | undefined;
  const shutdown = new Shutdown({
    timeoutMs: cfg.shutdownTimeoutMs,
    logger: log,
    exit: (code) => process.exit(exitOverride ?? code),
  }).install();
  // The launcher's early handlers (bin/forge.js) give way to the coordinator's.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    for (const l of process.listeners(sig)) if ((l as { forgeEarly?: boolean }).forgeEarly) process.off(sig, l);
  }
  // Retry settings from the config (retry.*): every retry in the process is logged and counted (forge_retries_total).
  installRetryReporting({ config: cfg, logger: log, metrics });
  try {
    const concurrency = scanConcurrency();
    const batchFiles = scanBatchFiles();
    const batchBytes = scanBatchBytes();
    const unlock = lockStore(storeDir);
    shutdown.register({ name: 'store-lock', phase: 'resources', stop: unlock, emergency: unlock });
    const { io, rejected } = await openPlatformIO({ backend: cfg.ioBackend, maxFileHandles: cfg.maxFileHandles });
    shutdown.register({ name: 'platform-io', phase: 'resources', stop: () => io.close(), emergency: () => io.close() });
    log.info({ backend: io.backend, rejected }, `I/O backend: ${io.backend}`);
    const store = await openContentStore(storeDir, io);
    shutdown.register({ name: 'store', phase: 'resources', stop: () => store.close() });
    const index = await Index.open(indexFileOf(storeDir), { poolSize: cfg.poolSize });
    shutdown.register({ name: 'index', phase: 'resources', stop: () => index.close(), emergency: () => index.close() });
    const leftovers = cleanStoreTemps(storeDir);
    if (leftovers > 0) log.info({ removed: leftovers }, `removed ${leftovers} interrupted store write(s) left by a crash`);

    let server: MetricsServer | undefined;
    if (cfg.metricsEnabled) {
      try {
        server = await startMetricsServer(metrics, { address: cfg.metricsAddress, allowRemote: cfg.metricsAllowRemote });
        shutdown.register({ name: 'metrics-server', phase: 'intake', stop: () => server!.close() });
      } catch (e) {
        // Only the default address yields (e.g. a second forge watch on this machine); a configured one is an error.
        const inUse = e instanceof ForgeError && (e.context.code === 'EADDRINUSE' || (e.cause as { code?: string } | undefined)?.code === 'EADDRINUSE');
        if (!inUse || opts.metricsAddressConfigured) throw e;
        log.warn(
          { address: cfg.metricsAddress },
          `metrics not served: ${cfg.metricsAddress} is in use (another forge watch?); set --metrics-address 127.0.0.1:0 or another port`,
        );
        opts.stderr.write(`forge: warning: metrics not served: ${cfg.metricsAddress} is in use; use --metrics-address <host:port> to choose another\n`);
      }
    }

    const walk: WalkOptions = { ignore: cfg.ignore, storeDir };
    const ignored = daemonIgnore(root, walk);
    const storeRel = path.relative(root, storeDir).split(path.sep).join('/');
    const watchIgnore = [...cfg.ignore, RESTORE_TEMP_PATH_RE, ...(storeRel && !storeRel.startsWith('..') && !path.isAbsolute(storeRel) ? [storeRel] : [])];
    // Timed wrappers: every batch read and store feeds the logs (debug timings, slow warnings) and the metrics.
    const lstatMany = (io as Partial<Pick<BatchReader, 'lstatMany'>>).lstatMany?.bind(io);
    const timedIo = {
      backend: io.backend,
      batchRead: (paths: readonly string[], options?: BatchReadOptions) =>
        log.timed('batchRead', () => io.batchRead(paths, options), { backend: io.backend, files: paths.length }),
      // The scan's walk lstats through the ring where the backend has one (io_uring's STATX).
      ...(lstatMany ? { lstatMany } : {}),
    };
    const timedStore = {
      putMany: async (datas: readonly Uint8Array[]) => {
        const results = await log.timed('putMany', () => store.putMany(datas), { backend: io.backend, files: datas.length });
        for (const r of results) if (r.ok) metrics.recordCacheLookup('put', r.storedBytes === 0);
        return results;
      },
      putFile: (abs: string, options?: PutFileOptions) => log.timed('putFile', () => store.putFile(abs, options), { backend: io.backend, file: abs }),
    };
    // A batch is retried on transient errors and waits out a full disk (the daemon) or fails with "disk full" (--once).
    const runBatch = batchRunner({ log, signal: shutdown.signal, storeDir, ...(opts.once ? { storageWaitMs: 0 } : {}) });
    const recorder = new HistoryRecorder(root, timedIo, timedStore, index, log, {
      walk,
      runBatch,
      concurrency,
      batchFiles,
      batchBytes,
      shouldStop: () => shutdown.stopping,
    });
    // What has been recorded so far; the state step saves it on shutdown, so a restart's catch-up starts from it.
    const progressState = { root, backend: io.backend, pid: process.pid, lastScanMs: 0, lastBatchMs: 0, batches: 0, versionsRecorded: 0 };
    shutdown.register({
      name: 'daemon-state',
      phase: 'state',
      stop: async () => {
        await index.setState('daemon', { ...progressState, stoppedMs: Date.now(), cleanShutdown: true });
        log.info({ ...progressState }, 'daemon state saved');
      },
    });

    // Watch first: anything that changes while the scan runs is queued, not lost.
    // (--once records the tree as it is and exits, so it needs no watcher.)
    const watcher = opts.once ? undefined : io.watch(root, { debounceMs: cfg.debounceMs, ignore: watchIgnore, signal: shutdown.signal });
    let ws = { directoriesWatched: 0, filesWatched: 0 } as ReturnType<NonNullable<typeof watcher>['stats']>;
    if (watcher) {
      shutdown.register({ name: 'watcher', phase: 'intake', stop: () => watcher.close() });
      await watcher.ready;
      ws = watcher.stats();
      metrics.setFilesWatched(ws.filesWatched);
      if (ws.partial) log.warn({ ...ws }, `watching only part of the tree: ${ws.degradedReason ?? 'see forge doctor'}`);
    }

    const runReconcile = async (label: string): Promise<ReconcileResult> => {
      const progress = new Progress({
        label,
        stream: opts.stderr,
        log: (line) => log.info({ progress: label }, line),
      });
      const r = await reconcile(root, index, recorder, walk, {
        onPlan: (files, bytes) => progress.setTotals(files, bytes),
        onProgress: (files, bytes) => progress.tick(files, bytes),
      });
      progress.done();
      progressState.lastScanMs = Date.now();
      progressState.versionsRecorded += r.tally.recorded;
      for (const p of r.walk.problems) {
        log.warn({ problem: p }, `not recorded: ${p}`);
        if (opts.once) opts.stderr.write(`forge: warning: not recorded: ${p}\n`);
      }
      // Interrupted writes and old restore temps from a crash: cleaned once the catch-up is done.
      const tmps = cleanStoreTemps(storeDir) + cleanRestoreTemps(r.forgeTemps);
      if (tmps > 0) log.info({ removed: tmps }, `removed ${tmps} leftover temp file(s)`);
      return r;
    };

    const first = await shutdown.track(runReconcile('scan'));
    opts.stdout.write(summaryLine(first) + '\n');
    log.info(
      {
        ...first.walk,
        ...first.plan,
        recorded: first.tally.recorded,
        filesRead: first.tally.filesStored,
        durationMs: Math.round(first.durationMs),
        memory: { ...memoryFigures(), v8FlagsSetBy },
      },
      'scan complete',
    );
    await index.setState('daemon', { ...progressState });
    if (first.tally.failed > 0 && opts.once) {
      opts.stderr.write(`forge: error: ${first.tally.failed} file(s) could not be recorded (see the warnings above)\n`);
    }
    let rep: { settled(): Promise<void>; lastError: ForgeError | undefined } | undefined;
    if (opts.push) {
      // Pushing runs beside the recording; an outage is logged and counted, never fatal.
      const { Replicator } = await import('../remote/replicator.js');
      const r = (rep = await Replicator.start({
        index,
        store,
        storeDir,
        remote: opts.push.remote,
        intervalMs: opts.push.intervalMs,
        log,
        registry: metrics.registry,
        prefix: metrics.prefix,
      }));
      shutdown.register({ name: 'remote-push', phase: 'drain', stop: () => r.stop() });
    }
    if (!watcher) {
      await rep?.settled(); // --once --push: the one push completes (or fails) before exit
      // The recording is done either way; a failed push is this run's failure (1 network, 78 configuration).
      if (rep?.lastError) exitOverride = reportError(rep.lastError, { stderr: opts.stderr }, opts.debug ?? false);
      return await shutdown.shutdown('--once');
    }

    opts.stdout.write(
      `${READY_PREFIX}: watching ${root} (store ${storeDir}, backend ${io.backend}, ${ws.directoriesWatched} directories` +
        (server ? `, metrics ${server.url}/metrics` : '') +
        ')\n',
    );
    log.info({ root, storeDir, backend: io.backend, metrics: server?.url }, 'ready');

    const consume = async (): Promise<void> => {
      for await (const batch of watcher) {
        if (shutdown.stopping) break;
        await shutdown.track(
          (async () => {
            const t0 = performance.now();
            const { tally, overflow } = await recorder.applyChanges(batch, ignored);
            progressState.batches++;
            progressState.lastBatchMs = Date.now();
            progressState.versionsRecorded += tally.recorded;
            if (overflow) {
              log.warn({}, 'watcher overflow: rescanning the tree');
              const r = await runReconcile('rescan');
              log.info({ recorded: r.tally.recorded, removed: r.tally.removed }, 'rescan complete');
            } else if (tally.recorded > 0) {
              log.debug({ changes: batch.length, recorded: tally.recorded, ms: performance.now() - t0 }, 'batch recorded');
            }
            metrics.setFilesWatched(watcher.stats().filesWatched);
          })(),
        );
      }
    };
    // A batch that cannot be recorded (after its retries) stops the daemon with that error and a
    // non-zero exit: it never lives on without recording.
    void consume().then(
      () => {
        // The iterator ends on close() (shutdown) or when the root itself is gone.
        if (!shutdown.stopping) {
          void shutdown.shutdown('watcher ended', {
            error: new ForgeError('filesystem', `the watched tree ${root} is gone or can no longer be watched`, {
              context: { file: root, operation: 'watch' },
              suggestions: ['Check that the directory still exists, then start `forge watch` again (it catches up).'],
            }),
          });
        }
      },
      (e: unknown) => {
        if (!shutdown.stopping) void shutdown.shutdown('recording failed', { error: e });
      },
    );
    if (opts.debug)
      shutdown.register({ name: 'fd-report', phase: 'resources', stop: () => log.info({ fds: openFdReport(storeDir) }, 'open descriptors at exit') });
    return await shutdown.done;
  } catch (e) {
    const fe = toForgeError(e);
    // A stop asked for during startup (SIGTERM in the first scan) aborts the scan's batches: that is the
    // stop, not a failure. What was recorded stays, and the next start catches up the rest.
    if (shutdown.stopping && fe.code === 'ABORT_ERR') {
      log.info({ stoppedDuring: 'scan' }, 'the first scan stopped part way; the next start catches up what it did not record');
      return await shutdown.done;
    }
    // Startup failed: say why in plain words, release what was opened, exit 1 (78 for configuration).
    const err = isDiskFull(fe, storeDir) && !fe.message.startsWith('disk full') ? diskFullError('startup', fe, 0) : e;
    exitOverride = reportError(err, { stderr: opts.stderr }, opts.debug ?? false);
    await shutdown.shutdown('startup failed', { error: err });
    return exitOverride;
  }
}
