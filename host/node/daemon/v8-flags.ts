/**
 * The V8 flags of the daemon process (`forge watch`). A leaf module (only `node:v8`), so that the
 * launcher (bin/forge.js) can set them before it loads the CLI: set after the imports, they came
 * too late for the heap that loading the modules had already grown (the young generation was at
 * 16 MiB semi-spaces by then; about 10 MiB more peak RSS). NODE_OPTIONS is not needed.
 */
import v8 from 'node:v8';

/**
 * - `--optimize-for-size`: a background process streaming file contents through; V8 otherwise
 *   lets the heap grow with the garbage rate (about 40 MiB more peak RSS on a 20,000-file scan,
 *   same time) rather than collect sooner; the live heap stays small.
 * - `--semi-space-growth-factor=1`: the young generation stays at its first size (1 MiB
 *   semi-spaces) instead of growing to 16 MiB: the scan's garbage is short-lived and small, and
 *   the grown young generation (and the old space it promotes into) was about 20 MiB of the peak
 *   RSS, for ~15 % more main-thread CPU on scavenges (the scan waits on the disk, not on this thread).
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--optimize-for-size', '--semi-space-growth-factor=1'];

/** Who set the flags in this process: the launcher before the CLI loaded, or the daemon itself (an embedder calling runDaemon). */
export type V8FlagsSetBy = 'launcher' | 'daemon';

const MARK = Symbol.for('forge.daemonV8Flags');

/**
 * Sets {@link DAEMON_V8_FLAGS} once per process; returns who set them first.
 *
 * @example
 * ```ts
 * const by = applyDaemonV8Flags('daemon'); // 'launcher' when bin/forge.js set them already
 * ```
 */
export function applyDaemonV8Flags(by: V8FlagsSetBy): V8FlagsSetBy {
  const g = globalThis as unknown as Record<symbol, V8FlagsSetBy | undefined>;
  const first = g[MARK];
  if (first !== undefined) return first;
  for (const f of DAEMON_V8_FLAGS) v8.setFlagsFromString(f);
  g[MARK] = by;
  return by;
}
