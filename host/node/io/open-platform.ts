/** Opening the platform I/O for the daemon and `forge doctor`, with the selection report. */
import type { BackendName, PlatformIO } from '../base/platform-io.js';
import type { IoLogger } from '../base/resources.js';
import type { BackendRejection } from './select.js';

export interface PlatformChoice {
  io: PlatformIO;
  /** Why each rejected backend was rejected. */
  rejected: BackendRejection[];
  kernelRelease: string;
  forced: boolean;
}

/** `backend: 'auto'` (or undefined) lets the selector probe; FORGE_IO_BACKEND still applies then. */
export async function openPlatformIO(options: { backend?: string; maxFileHandles?: number; logger?: IoLogger }): Promise<PlatformChoice> {
  const { createPlatformIO } = await import('./select.js');
  const io = await createPlatformIO({
    ...(options.backend !== undefined && options.backend !== 'auto' ? { backend: options.backend as BackendName } : {}),
    ...(options.maxFileHandles !== undefined ? { maxHandles: options.maxFileHandles } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { io, rejected: io.selection.rejected, kernelRelease: io.selection.kernelRelease, forced: io.selection.forced };
}
