/**
 * `forge-io/watch`: a debounced recursive tree watcher (inotify read through io_uring on Linux,
 * kqueue on macOS, ReadDirectoryChangesW on Windows, fs.watch elsewhere) with gitignore-style rules.
 *
 * @example
 * ```ts
 * import { watch } from 'forge-io/watch';
 * const handle = watch('src', { debounceMs: 50 });
 * for await (const changes of handle) console.log(changes); // until handle.close()
 * ```
 *
 * @module
 */
import './base/dispose.js';

export { ForgeError } from './base/errors.js';
export type { Change, ChangeKind, WatchOptions, WatchHandle, WatchStats } from './base/platform-io.js';
export { watch } from './io/watch.js';
export type { ManagedWatchHandle } from './watch/handle.js';
export { compileIgnore, DEFAULT_IGNORES } from './watch/ignore.js';
export type { IgnoreMatcher } from './watch/ignore.js';
