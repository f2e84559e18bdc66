/**
 * Worker thread body of {@link DecodePool}: reads an object through an fd the
 * main thread opened, decodes it on a core instance of its own and hashes it
 * with node:crypto, so concurrent verified gets use more than one core. Runs as
 * compiled JS from dist/.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { freshCoreBindings } from '../core-bindings.js';
import type { DecodeRequest, DecodeResponse } from './decode-pool.js';
import { readFully } from '../read.js';

const port = parentPort;
if (port === null) throw new Error('decode-worker.js must run in a worker thread');

const core = freshCoreBindings();

port.on('message', (m: DecodeRequest) => {
  let reply: DecodeResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const h = createHash('sha256');
    const content = core.lz4DecompressFrom(m.size, (dst) => readFully(m.fd, dst), m.maxSize, (view) => h.update(view));
    // The content owns its ArrayBuffer (see lz4DecompressFrom): transfer it, no copy.
    const buffer = content.buffer as ArrayBuffer;
    reply = { id: m.id, kind: 'content', buffer, length: content.length, actual: h.digest('hex') };
    transfer = [buffer];
  } catch (err) {
    // A bad frame or a read error: the main thread reads the object again and reports it the
    // one usual way.
    reply = { id: m.id, kind: 'fallback', error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ id: 0, kind: 'ready' } satisfies DecodeResponse);
