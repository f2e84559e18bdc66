/** `await using` on PlatformIO and WatchHandle: Symbol.asyncDispose closes them like close() does. */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatformIO } from '../../host/node/io/select.js';

const backends = process.platform === 'linux' ? (['io_uring', 'fallback'] as const) : (['fallback'] as const);

describe.each(backends)('Symbol.asyncDispose on %s', (backend) => {
  it('disposing the PlatformIO closes it: later calls fail, a second dispose is harmless', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-dispose-'));
    fs.writeFileSync(path.join(dir, 'a'), 'x');
    const io = await createPlatformIO({ backend });
    expect(io.backend).toBe(backend);
    expect(Buffer.from(await io.readAll(path.join(dir, 'a'))).toString()).toBe('x');
    await io[Symbol.asyncDispose]();
    await expect(io.readAll(path.join(dir, 'a'))).rejects.toThrow();
    await io[Symbol.asyncDispose]();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('disposing a WatchHandle ends its iteration', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-dispose-w-'));
    const io = await createPlatformIO({ backend });
    try {
      const w = io.watch(dir, { debounceMs: 0 });
      await w.ready;
      const it = w[Symbol.asyncIterator]();
      const next = it.next();
      await w[Symbol.asyncDispose]();
      expect((await next).done).toBe(true);
    } finally {
      await io.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
