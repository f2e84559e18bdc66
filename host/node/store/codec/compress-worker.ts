/**
 * Worker thread body of {@link CompressPool}: one core instance of its own,
 * compressing whatever the pool sends. Runs as compiled JS from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { categorize } from '../../base/errors.js';
import { loadCore } from '../../core/loader.js';
import { lz4Compress, lz4FrameBlocks } from '../../core/codec.js';
import type { CompressRequest, CompressResponse, CompressWorkerData } from './compress-pool.js';

const port = parentPort;
if (port === null) throw new Error('compress-worker.js must run in a worker thread');

const init = workerData as CompressWorkerData | undefined;
// The pool's compiled module when it sent one, so this worker does not compile the core again.
const core = loadCore(init?.module);

port.on('message', (m: CompressRequest) => {
  let reply: CompressResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    if (m.kind === 'frames') {
      // Many small contents in one job: their frames back to back in one transferred buffer.
      const frames: Uint8Array[] = [];
      let at = 0;
      let total = 0;
      for (const n of m.sizes ?? []) {
        const f = lz4Compress(m.data.subarray(at, at + n), m.options, core);
        frames.push(f);
        at += n;
        total += f.length;
      }
      const out = new Uint8Array(total);
      let o = 0;
      for (const f of frames) {
        out.set(f, o);
        o += f.length;
      }
      port.postMessage({ id: m.id, ok: true, buffer: out.buffer, offset: 0, length: total, sizes: frames.map((f) => f.length) } satisfies CompressResponse, [
        out.buffer,
      ]);
      return;
    }
    let out = m.kind === 'blocks' ? lz4FrameBlocks(m.data, m.options, core) : lz4Compress(m.data, m.options, core);
    // Transfer only a buffer the result owns alone (never a pooled Buffer's backing store).
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = new Uint8Array(out); // a copy, also for Buffers
    const buffer = out.buffer as ArrayBuffer;
    reply = { id: m.id, ok: true, buffer, offset: out.byteOffset, length: out.length };
    transfer = [buffer];
  } catch (err) {
    reply = { id: m.id, ok: false, message: err instanceof Error ? err.message : String(err), category: categorize(err) };
  }
  port.postMessage(reply, transfer);
});
// The core is loaded (above, synchronously): jobs sent from now on start at once. A flag in
// shared memory, not a message: the pool reads it even while its thread never yields.
const ready = init?.ready;
if (ready instanceof SharedArrayBuffer) Atomics.store(new Int32Array(ready), 0, 1);
