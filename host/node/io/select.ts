/**
 * Chooses the I/O backend at run time: io_uring → IOCP (win32) / kqueue
 * (darwin) → fallback. Each candidate is probed for real (kernel release,
 * kernel.io_uring_disabled, koffi loading, io_uring_setup itself), and the
 * reason every rejected backend was rejected is kept in a report that
 * `forge doctor` prints.
 *
 * `FORGE_IO_BACKEND=io_uring|iocp|kqueue|fallback` (or `options.backend`)
 * forces one (`auto`, the default, probes); a forced backend that cannot run is a `dependency` ForgeError.
 *
 * Simulating an unavailable io_uring (tests, demos):
 * - `FORGE_TEST_IO_URING_DISABLED=1|2` makes the probe read that value instead of
 *   /proc/sys/kernel/io_uring_disabled (1 is taken as "this process is not in
 *   kernel.io_uring_group", so it rejects too);
 * - `options.probe` overrides any probe input: kernel release, io_uring_disabled,
 *   the io_uring_setup errno, or a koffi import failure.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ForgeError, LINUX_ERRNO } from '../base/errors.js';
import { createFallbackBackend } from './fallback-backend.js';
import type { BackendName, PlatformIO } from '../base/platform-io.js';
import { ResourceManager, type IoLogger } from '../base/resources.js';
import type { IoUringBackendOptions } from '../../native/linux/io-uring-backend.js';

/** Oldest kernel with everything the chains use: OPENAT/CLOSE into direct-descriptor slots (5.15). */
export const MIN_IO_URING_KERNEL: readonly [number, number] = [5, 15];

const BACKENDS: readonly BackendName[] = ['io_uring', 'iocp', 'kqueue', 'fallback'];

/** Probe inputs a test may replace. */
export interface ProbeOverrides {
  /** As `os.release()` would return it. */
  kernelRelease?: string;
  /** The value of kernel.io_uring_disabled (0, 1 or 2). */
  ioUringDisabled?: number;
  /** Make io_uring_setup "fail" with this errno (e.g. 1 = EPERM, 38 = ENOSYS). */
  setupErrno?: number;
  /** Make the import of the koffi-based module fail. */
  koffiMissing?: boolean;
}

/** Options of {@link createPlatformIO}: backend choice, handle budget and tuning. */
export interface CreatePlatformIOOptions {
  /** Force a backend (else FORGE_IO_BACKEND, else the best available); 'auto' probes. */
  backend?: BackendName | 'auto';
  logger?: IoLogger;
  /** Handle budget of a ResourceManager created for the backend (default 1024; FORGE_MAX_FILE_HANDLES). */
  maxHandles?: number;
  /** A shared handle budget (takes precedence over maxHandles). */
  resources?: ResourceManager;
  /** io_uring tuning (size hint, chunk sizes, slots). */
  ioUring?: Omit<IoUringBackendOptions, 'resources' | 'maxHandles' | 'logger'>;
  /** Probe overrides for tests (see the module comment). */
  probe?: ProbeOverrides;
}

/** A backend the selector did not use, and why. */
export interface BackendRejection {
  backend: BackendName;
  /** Human-readable reason, e.g. "kernel.io_uring_disabled = 2 (io_uring disabled for all processes)". */
  reason: string;
  /** Machine-readable cause: not-platform, kernel-too-old, io_uring-disabled, setup-EPERM, setup-ENOSYS, koffi-missing, module-missing, not-forced, error. */
  code: string;
}

/** What createPlatformIO chose and why the others were not chosen. */
export interface SelectionReport {
  chosen: BackendName;
  /** True when FORGE_IO_BACKEND / options.backend decided. */
  forced: boolean;
  platform: NodeJS.Platform;
  kernelRelease: string;
  rejected: BackendRejection[];
}

/** A PlatformIO returned by createPlatformIO, with the selection report. */
export type SelectedPlatformIO = PlatformIO & { readonly selection: SelectionReport };

let lastReport: SelectionReport | undefined;

/**
 * The selection report of `io`, or of the latest createPlatformIO() call (for `forge doctor`).
 *
 * @example
 * ```ts
 * const io = await createPlatformIO();
 * for (const r of getSelectionReport(io)!.rejected) console.log(`${r.backend}: ${r.reason}`);
 * ```
 */
export function getSelectionReport(io?: PlatformIO): SelectionReport | undefined {
  if (io && 'selection' in io) return (io as SelectedPlatformIO).selection;
  return lastReport;
}

/** Parses a backend name from FORGE_IO_BACKEND/options; a bad value is a configuration error. */
export function parseBackendName(value: string, source: string): BackendName {
  const v = value.trim().toLowerCase().replace('-', '_');
  if ((BACKENDS as readonly string[]).includes(v)) return v as BackendName;
  throw new ForgeError('configuration', `${source}: unknown I/O backend "${value}"`, {
    context: { operation: 'createPlatformIO', field: source },
    suggestions: [`Use one of: auto, ${BACKENDS.join(', ')}.`],
  });
}

function kernelAtLeast(release: string, [maj, min]: readonly [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > maj || (a === maj && b >= min);
}

/** kernel.io_uring_disabled: test override, then the env simulation, then /proc (absent = 0, pre-6.6 kernels). */
function ioUringDisabledValue(probe: ProbeOverrides): number {
  if (probe.ioUringDisabled !== undefined) return probe.ioUringDisabled;
  const sim = process.env.FORGE_TEST_IO_URING_DISABLED;
  if (sim !== undefined && sim !== '') return Number(sim);
  try {
    return Number(readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim());
  } catch {
    return 0;
  }
}

function rejection(backend: BackendName, code: string, reason: string): BackendRejection {
  return { backend, code, reason };
}

type Attempt = { ok: true; io: PlatformIO } | { ok: false; rejection: BackendRejection; cause?: unknown };

async function tryIoUring(opts: CreatePlatformIOOptions, resources: ResourceManager): Promise<Attempt> {
  const probe = opts.probe ?? {};
  const release = probe.kernelRelease ?? os.release();
  if (process.platform !== 'linux') return { ok: false, rejection: rejection('io_uring', 'not-platform', `not Linux (${process.platform})`) };
  if (!kernelAtLeast(release, MIN_IO_URING_KERNEL)) {
    return {
      ok: false,
      rejection: rejection(
        'io_uring',
        'kernel-too-old',
        `kernel ${release} is too old: direct-descriptor OPENAT/CLOSE need Linux >= ${MIN_IO_URING_KERNEL.join('.')}`,
      ),
    };
  }
  const disabled = ioUringDisabledValue(probe);
  if (disabled === 2 || disabled === 1) {
    const what = disabled === 2 ? 'io_uring disabled for all processes' : 'io_uring limited to kernel.io_uring_group and CAP_SYS_ADMIN';
    // With 1 a privileged process may still get a ring: only the simulation rejects outright.
    const simulated = probe.ioUringDisabled !== undefined || process.env.FORGE_TEST_IO_URING_DISABLED;
    if (disabled === 2 || simulated) {
      return {
        ok: false,
        rejection: rejection('io_uring', 'io_uring-disabled', `kernel.io_uring_disabled = ${disabled} (${what})${simulated ? ' [simulated]' : ''}`),
      };
    }
  }
  let mod: typeof import('../../native/linux/io-uring-backend.js');
  try {
    if (probe.koffiMissing) throw Object.assign(new Error("Cannot find package 'koffi' [simulated]"), { code: 'ERR_MODULE_NOT_FOUND' });
    mod = await import('../../native/linux/io-uring-backend.js');
  } catch (e) {
    return { ok: false, rejection: rejection('io_uring', 'koffi-missing', `koffi could not be loaded: ${(e as Error).message}`), cause: e };
  }
  if (probe.setupErrno !== undefined) return { ok: false, rejection: setupRejection(probe.setupErrno, disabled, true) };
  try {
    const io = mod.createIoUringBackend({ ...opts.ioUring, resources, ...(opts.logger ? { logger: opts.logger } : {}) });
    return { ok: true, io };
  } catch (e) {
    const errno = e instanceof ForgeError && typeof e.context.errno === 'number' ? e.context.errno : undefined;
    if (errno !== undefined) return { ok: false, rejection: setupRejection(errno, disabled, false), cause: e };
    return { ok: false, rejection: rejection('io_uring', 'error', `io_uring backend failed to start: ${(e as Error).message}`), cause: e };
  }
}

function setupRejection(errno: number, disabled: number, simulated: boolean): BackendRejection {
  const name = LINUX_ERRNO[errno] ?? `errno ${errno}`;
  const sim = simulated ? ' [simulated]' : '';
  if (errno === 1) {
    const why =
      disabled === 1
        ? 'kernel.io_uring_disabled = 1 and this process is not in kernel.io_uring_group'
        : 'blocked by a seccomp filter (e.g. a container runtime default profile)';
    return rejection('io_uring', 'setup-EPERM', `io_uring_setup: EPERM, ${why}${sim}`);
  }
  if (errno === 38) return rejection('io_uring', 'setup-ENOSYS', `io_uring_setup: ENOSYS, kernel built without CONFIG_IO_URING or the call is filtered${sim}`);
  return rejection('io_uring', `setup-${name}`, `io_uring_setup failed: ${name}${sim}`);
}

/** IOCP (win32) and kqueue (darwin) live in modules loaded only on their platform. */
async function tryNative(kind: 'iocp' | 'kqueue', opts: CreatePlatformIOOptions, resources: ResourceManager): Promise<Attempt> {
  const platform = kind === 'iocp' ? 'win32' : 'darwin';
  if (process.platform !== platform) {
    return { ok: false, rejection: rejection(kind, 'not-platform', `not ${platform === 'win32' ? 'Windows' : 'macOS'} (${process.platform})`) };
  }
  const options = { resources, ...(opts.logger ? { logger: opts.logger } : {}) };
  let create: ((o: typeof options) => Promise<PlatformIO> | PlatformIO) | undefined;
  try {
    // Variable specifiers: the modules may be absent from a build, which is a rejection, not a crash.
    const spec = kind === 'iocp' ? '../../native/win32/iocp-backend.js' : '../../native/darwin/kqueue-backend.js';
    const mod = (await import(spec)) as Record<string, unknown>;
    const fn = mod[kind === 'iocp' ? 'createIocpBackend' : 'createKqueueBackend'];
    if (typeof fn === 'function') create = fn as typeof create;
  } catch (e) {
    return { ok: false, rejection: rejection(kind, 'module-missing', `${kind} backend module could not be loaded: ${(e as Error).message}`), cause: e };
  }
  if (!create) return { ok: false, rejection: rejection(kind, 'module-missing', `${kind} backend module has no factory`) };
  try {
    return { ok: true, io: await create(options) };
  } catch (e) {
    return { ok: false, rejection: rejection(kind, 'error', `${kind} backend failed to start: ${(e as Error).message}`), cause: e };
  }
}

function attempt(kind: BackendName, opts: CreatePlatformIOOptions, resources: ResourceManager): Promise<Attempt> {
  switch (kind) {
    case 'io_uring':
      return tryIoUring(opts, resources);
    case 'iocp':
    case 'kqueue':
      return tryNative(kind, opts, resources);
    case 'fallback':
      return Promise.resolve({ ok: true, io: createFallbackBackend({ resources, ...(opts.logger ? { logger: opts.logger } : {}) }) });
  }
}

/** The handle bound from `opts` or FORGE_MAX_FILE_HANDLES; a bad value is a configuration ForgeError. */
export function maxHandlesFrom(opts: CreatePlatformIOOptions): number | undefined {
  if (opts.maxHandles !== undefined) return opts.maxHandles;
  const env = process.env.FORGE_MAX_FILE_HANDLES;
  if (env === undefined || env === '') return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) {
    throw new ForgeError('configuration', `FORGE_MAX_FILE_HANDLES must be an integer >= 1, got "${env}"`, {
      context: { operation: 'createPlatformIO', field: 'FORGE_MAX_FILE_HANDLES' },
    });
  }
  return n;
}

/**
 * Probes and opens the best I/O backend for this machine.
 *
 * @example
 * ```ts
 * const io = await createPlatformIO({ maxHandles: 512 });
 * console.log(io.backend, io.selection.rejected); // 'io_uring', [{ backend: 'iocp', ... }, ...]
 * const results = await io.batchRead(['a.txt', 'b.txt']);
 * await io.close();
 * ```
 */
export async function createPlatformIO(options: CreatePlatformIOOptions = {}): Promise<SelectedPlatformIO> {
  const envForced = process.env.FORGE_IO_BACKEND;
  // 'auto' (the config default) and an empty value mean: probe.
  const wanted = options.backend ?? (envForced !== undefined && envForced.trim() !== '' ? envForced : undefined);
  const forced =
    wanted === undefined || wanted.trim().toLowerCase() === 'auto'
      ? undefined
      : parseBackendName(wanted, options.backend !== undefined ? 'options.backend' : 'FORGE_IO_BACKEND');
  const maxHandles = maxHandlesFrom(options);
  const ownsResources = options.resources === undefined;
  const resources =
    options.resources ?? new ResourceManager({ ...(maxHandles !== undefined ? { maxHandles } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  const native: BackendName | undefined = process.platform === 'win32' ? 'iocp' : process.platform === 'darwin' ? 'kqueue' : undefined;
  const order: BackendName[] = forced ? [forced] : native ? ['io_uring', native, 'fallback'] : ['io_uring', 'fallback'];
  const rejected: BackendRejection[] = forced
    ? BACKENDS.filter((b) => b !== forced).map((b) => rejection(b, 'not-forced', `FORGE_IO_BACKEND/options.backend forced ${forced}`))
    : [];
  if (!forced) {
    // The other OSes' backends are not tried; the report still says why, so it covers all four.
    for (const other of ['iocp', 'kqueue'] as const) {
      if (other !== native) rejected.push(rejection(other, 'not-platform', `not ${other === 'iocp' ? 'Windows' : 'macOS'} (${process.platform})`));
    }
  }
  for (const kind of order) {
    const a = await attempt(kind, options, resources);
    if (a.ok) {
      const report: SelectionReport = {
        chosen: kind,
        forced: forced !== undefined,
        platform: process.platform,
        kernelRelease: options.probe?.kernelRelease ?? os.release(),
        rejected,
      };
      lastReport = report;
      options.logger?.info?.({ backend: kind, rejected }, `I/O backend: ${kind}`);
      if (ownsResources) {
        // The backend got the budget as "shared": shut it down with the backend.
        const close = a.io.close.bind(a.io);
        Object.defineProperty(a.io, 'close', {
          value: async () => {
            await close();
            await resources.shutdown(0);
          },
          configurable: true,
        });
      }
      Object.defineProperty(a.io, 'selection', { value: report, enumerable: false });
      return a.io as SelectedPlatformIO;
    }
    rejected.push(a.rejection);
    options.logger?.debug({ backend: kind, reason: a.rejection.reason }, 'I/O backend rejected');
    if (forced) {
      if (ownsResources) await resources.shutdown(0);
      throw new ForgeError('dependency', `FORGE_IO_BACKEND=${forced} was forced but cannot run here: ${a.rejection.reason}`, {
        cause: a.cause,
        context: { operation: 'createPlatformIO', backend: forced, code: a.rejection.code },
        suggestions: [
          'Unset FORGE_IO_BACKEND to let Forge choose, or set FORGE_IO_BACKEND=fallback.',
          'Run `forge doctor` to see why each backend was rejected.',
        ],
      });
    }
  }
  // Unreachable: the fallback always constructs.
  throw new ForgeError('unknown', 'no I/O backend could be created', { context: { operation: 'createPlatformIO' } });
}
