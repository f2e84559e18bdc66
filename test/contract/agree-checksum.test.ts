// Property: the direct loader and the jco bindings agree on interface checksum.
import fc from 'fast-check';
import { describe } from 'vitest';
import { agree } from './agree.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

describe('contract: checksum', () => {
  agree('checksum', ['sha256'], fc.oneof(bytes(300), bytes(70_000)), (api, data) => api.checksum.sha256(data));

  agree('checksum', ['sha256-batch'], fc.array(bytes(5000), { maxLength: 20 }), (api, list) => api.checksum.sha256Batch(list));

  agree('checksum', ['sha256-stream-new', 'sha256-stream-update', 'sha256-stream-finish'], fc.array(bytes(3000), { maxLength: 10 }), (api, chunks) => {
    const s = api.checksum.sha256StreamNew();
    for (const c of chunks) api.checksum.sha256StreamUpdate(s, c);
    return api.checksum.sha256StreamFinish(s);
  });

  agree('checksum', ['xxh32'], fc.tuple(bytes(2000), fc.integer({ min: 0, max: 0xffffffff })), (api, [data, seed]) => api.checksum.xxh32(data, seed));
});
