/** Reading many whole files at once: one batchRead through the I/O backend, or node:fs one by one. */
import { readFileSync } from 'node:fs';
import { toForgeError, type ForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';

/** One file's bytes, or the error for that file alone. */
export type BatchReadResult = { ok: true; data: Uint8Array } | { ok: false; error: ForgeError };

/** Reads every path (one result per path, in order) with `io` when given, else with node:fs. */
export async function batchReadFiles(io: PlatformIO | undefined, paths: string[]): Promise<BatchReadResult[]> {
  if (io) return io.batchRead(paths);
  return paths.map((p) => {
    try {
      return { ok: true as const, data: readFileSync(p) };
    } catch (err) {
      return { ok: false as const, error: toForgeError(err, { file: p, operation: 'read' }) };
    }
  });
}
