/**
 * The first step of a commit: every object of a batch written to its tmp file, per file
 * success or error. write.ts decides whether each file is fsynced here (`fileSync`) or made
 * durable later by the batch's syncfs (batch-flush.ts).
 */
import { closeSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import { OBJECT_FILE_MODE } from './format.js';
import { createFile, createFileDurablyRetrying, joinFrame, objectWriteOps, tryUnlink, type Frame } from './tmp-files.js';

/**
 * Writes the tmp files; true per file that holds its whole frame. Without sync: plain writes on
 * this thread. With sync, or when some object goes O_DIRECT: one batchWrite (per-op fsync when
 * `fileSync`, per-op `direct`) when an io is given, else create + write (+ fsync when `fileSync`)
 * per file on the libuv threadpool, in parallel; the result is then a promise.
 *
 * @example
 * ```ts
 * const errors = new Array(tmps.length);
 * const ok = await writeTmpFiles(io, true, false, tmps, [{ frame, direct: false }], errors);
 * ```
 */
export function writeTmpFiles(
  io: PlatformIO | undefined,
  sync: boolean,
  fileSync: boolean,
  tmps: string[],
  batch: ReadonlyArray<{ frame: Frame; direct: boolean }>,
  errors: Array<ForgeError | undefined>,
): boolean[] | Promise<boolean[]> {
  const ok = new Array<boolean>(tmps.length).fill(false);
  const frames = batch.map((c) => c.frame);
  if (io !== undefined && (sync || batch.some((c) => c.direct))) {
    const data = frames.map(joinFrame);
    const { ops, chmodAfter } = objectWriteOps(tmps, data, batch, fileSync, io.backend);
    return io.batchWrite(ops).then((results) => {
      results.forEach((r, i) => {
        if (r.ok && r.bytes === data[i]!.length) ok[i] = true;
        else {
          tryUnlink(tmps[i]!);
          errors[i] = r.ok
            ? new ForgeError('filesystem', `short write to ${tmps[i]}: ${r.bytes} of ${data[i]!.length} bytes`, {
                context: { file: tmps[i], operation: 'put' },
              })
            : r.error;
        }
      });
      // On the threadpool, before the rename (the flush after it commits this metadata change too).
      return Promise.all(
        tmps.map((tmp, i) =>
          ok[i] && chmodAfter[i]
            ? chmod(tmp, OBJECT_FILE_MODE).catch((err: unknown) => {
                ok[i] = false;
                tryUnlink(tmp);
                errors[i] = toForgeError(err, { file: tmp, operation: 'put' });
              })
            : undefined,
        ),
      ).then(() => ok);
    });
  }
  if (sync) {
    // Creating a file is a metadata update that can wait for the journal (0.7 ms each on the
    // build machine's disk under load): with sync on, all of it goes to the threadpool.
    return Promise.all(
      tmps.map((tmp, i) =>
        createFileDurablyRetrying(tmp, frames[i]!, fileSync).then(
          () => {
            ok[i] = true;
          },
          (err: unknown) => {
            errors[i] = toForgeError(err, { file: tmp, operation: 'put' });
          },
        ),
      ),
    ).then(() => ok);
  }
  for (let i = 0; i < tmps.length; i++) {
    try {
      closeSync(createFile(tmps[i]!, frames[i]!));
      ok[i] = true;
    } catch (err) {
      tryUnlink(tmps[i]!);
      errors[i] = toForgeError(err, { file: tmps[i], operation: 'put' });
    }
  }
  return ok;
}
