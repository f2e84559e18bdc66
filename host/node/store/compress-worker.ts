/**
 * Worker thread body of {@link CompressPool}: one core instance of its own,
 * compressing whatever the pool sends. Runs as compiled JS from dist/.
 */
import { parentPort } from 'node:worker_threads';
import { categorize } from '../errors.js';
import { freshCoreBindings } from './core-bindings.js';
import type { CompressRequest, CompressResponse } from './compress-pool.js';

const port = parentPort;
if (port === null) throw new Error('compress-worker.js must run in a worker thread');

const core = freshCoreBindings();

port.on('message', (m: CompressRequest) => {
  let reply: CompressResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    let out = m.kind === 'blocks' ? core.lz4FrameBlocks(m.data, m.options) : core.lz4Compress(m.data, m.options);
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
