/**
 * Worker thread body of {@link CodecPool}: one core instance of its own, compressing whatever
 * the pool sends, and decoding objects through an fd the main thread opened (every frame
 * checksum checked; the main thread hashes the content meanwhile: a pipeline). Runs as compiled
 * JS from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { categorize } from '../../base/errors.js';
import { loadCore } from '../../core/loader.js';
import { lz4Compress, lz4DecompressFrom, lz4FrameBlocks } from '../../core/codec.js';
import { readFully } from '../read.js';
import type { CodecRequest, CodecResponse, CodecWorkerData, CompressRequest, DecodeRequest } from './codec-pool.js';

const port = parentPort;
if (port === null) throw new Error('codec-worker.js must run in a worker thread');

const init = workerData as CodecWorkerData | undefined;
// The pool's compiled module when it sent one, so this worker does not compile the core again.
const core = loadCore(init?.module);

/** A result the reply owns alone (never a pooled Buffer's backing store), so it can be transferred. */
function owned(out: Uint8Array): Uint8Array {
  return out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength ? new Uint8Array(out) : out;
}

function compress(m: CompressRequest): Uint8Array | { frames: Uint8Array; sizes: number[] } {
  if (m.kind !== 'frames') return owned(m.kind === 'blocks' ? lz4FrameBlocks(m.data, m.options, core) : lz4Compress(m.data, m.options, core));
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
  return { frames: out, sizes: frames.map((f) => f.length) };
}

function decode(m: DecodeRequest): Uint8Array {
  // The content owns its ArrayBuffer (see lz4DecompressFrom): transferred, no copy.
  return lz4DecompressFrom(m.size, (dst) => readFully(m.fd, dst), { maxSize: m.maxSize }, core);
}

port.on('message', (m: CodecRequest) => {
  let reply: CodecResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const out = m.op === 'decode' ? decode(m) : compress(m);
    if (out instanceof Uint8Array) reply = { id: m.id, ok: true, buffer: out.buffer as ArrayBuffer, offset: out.byteOffset, length: out.length };
    else reply = { id: m.id, ok: true, buffer: out.frames.buffer as ArrayBuffer, offset: 0, length: out.frames.length, sizes: out.sizes };
    transfer = [reply.buffer];
  } catch (err) {
    // A failed decode (bad frame, read error) is read again by the main thread, which reports it the one usual way.
    reply = { id: m.id, ok: false, message: err instanceof Error ? err.message : String(err), category: categorize(err) };
  }
  port.postMessage(reply, transfer);
});
// The core is loaded (above, synchronously): jobs sent from now on start at once. A flag in
// shared memory, not a message: the pool reads it even while its thread never yields.
const ready = init?.ready;
if (ready instanceof SharedArrayBuffer) Atomics.store(new Int32Array(ready), 0, 1);
