/** The daemon's memory figures, logged with the scan summary (docs/daemon.md, "Memory"). */
import v8 from 'node:v8';
import { sharedCodecPoolSize } from '../store/codec/codec-pool.js';

export interface MemoryFigures {
  /** Peak resident set of the process so far (getrusage ru_maxrss), KiB. */
  maxRssKiB: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** The young generation's capacity: stays at its first size under the daemon's V8 flags (v8-flags.ts). */
  newSpaceBytes: number;
  /** The bound of the process's codec worker pool; 0 while no put has needed it (content under 512 bytes is framed on this thread). */
  codecPoolSize: number;
}

/**
 * What the process holds now, and its peak so far.
 *
 * @example
 * ```ts
 * log.info({ memory: memoryFigures() }, 'scan complete');
 * ```
 */
export function memoryFigures(): MemoryFigures {
  const m = process.memoryUsage();
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    maxRssKiB: process.resourceUsage().maxRSS,
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    newSpaceBytes: ns?.space_size ?? 0,
    codecPoolSize: sharedCodecPoolSize(),
  };
}
