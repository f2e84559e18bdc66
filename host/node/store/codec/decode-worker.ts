/**
 * Worker thread body of {@link DecodePool}: reads an object through an fd the
 * main thread opened and decodes it (every frame checksum checked) on a core
 * instance of its own, so concurrent verified gets use more than one core; the
 * main thread hashes the content meanwhile-decoded objects (a pipeline). Runs as
 * compiled JS from dist/.
 */
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
    const content = core.lz4DecompressFrom(m.size, (dst) => readFully(m.fd, dst), m.maxSize);
    // The content owns its ArrayBuffer (see lz4DecompressFrom): transfer it, no copy.
    const buffer = content.buffer as ArrayBuffer;
    reply = { id: m.id, kind: 'content', buffer, length: content.length };
    transfer = [buffer];
  } catch (err) {
    // A bad frame or a read error: the main thread reads the object again and reports it the
    // one usual way.
    reply = { id: m.id, kind: 'fallback', error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ id: 0, kind: 'ready' } satisfies DecodeResponse);
