/** The backend selector on this machine: real probes, simulated io_uring_disabled, forced backends. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ensureDist, removeDir, tempDir } from './helpers.js';
import { createPlatformIO, getSelectionReport, parseBackendName } from '../../host/node/io/select.js';
import { ForgeError } from '../../host/node/base/errors.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['FORGE_IO_BACKEND', 'FORGE_TEST_IO_URING_DISABLED', 'FORGE_MAX_FILE_HANDLES']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

linuxOnly('createPlatformIO', () => {
  test('selects io_uring on this machine (Linux >= 5.15, io_uring_disabled = 0)', async () => {
    const io = await createPlatformIO();
    try {
      expect(io.backend).toBe('io_uring');
      expect(io.selection.chosen).toBe('io_uring');
      expect(io.selection.forced).toBe(false);
      expect(io.selection.rejected.map((r) => `${r.backend}:${r.code}`).sort()).toEqual(['iocp:not-platform', 'kqueue:not-platform']);
      expect(getSelectionReport(io)).toBe(io.selection);
    } finally {
      await io.close();
    }
  });

  for (const value of ['1', '2']) {
    test(`FORGE_TEST_IO_URING_DISABLED=${value} selects the fallback and says why`, async () => {
      process.env.FORGE_TEST_IO_URING_DISABLED = value;
      const io = await createPlatformIO();
      try {
        expect(io.backend).toBe('fallback');
        const r = io.selection.rejected.find((x) => x.backend === 'io_uring');
        expect(r?.code).toBe('io_uring-disabled');
        expect(r?.reason).toContain(`io_uring_disabled = ${value}`);
      } finally {
        await io.close();
      }
    });
  }

  test('FORGE_IO_BACKEND=fallback forces the fallback and records it', async () => {
    process.env.FORGE_IO_BACKEND = 'fallback';
    const io = await createPlatformIO();
    try {
      expect(io.backend).toBe('fallback');
      expect(io.selection.forced).toBe(true);
      expect(io.selection.rejected.find((x) => x.backend === 'io_uring')?.code).toBe('not-forced');
    } finally {
      await io.close();
    }
  });

  test('a forced backend that cannot run is a dependency ForgeError naming the reason', async () => {
    process.env.FORGE_IO_BACKEND = 'iocp';
    await expect(createPlatformIO()).rejects.toMatchObject({ category: 'dependency', message: expect.stringContaining('not Windows') });
    process.env.FORGE_IO_BACKEND = 'io_uring';
    process.env.FORGE_TEST_IO_URING_DISABLED = '2';
    const err = await createPlatformIO().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).category).toBe('dependency');
    expect((err as ForgeError).message).toContain('io_uring_disabled = 2');
  });

  test('a bad FORGE_IO_BACKEND or FORGE_MAX_FILE_HANDLES is a configuration error', async () => {
    process.env.FORGE_IO_BACKEND = 'epoll';
    await expect(createPlatformIO()).rejects.toMatchObject({ category: 'configuration' });
    expect(parseBackendName('IO-URING', 'x')).toBe('io_uring');
    process.env.FORGE_IO_BACKEND = 'auto';
    const auto = await createPlatformIO();
    expect(auto.backend).toBe('io_uring');
    await auto.close();
    delete process.env.FORGE_IO_BACKEND;
    process.env.FORGE_MAX_FILE_HANDLES = '0';
    await expect(createPlatformIO()).rejects.toMatchObject({ category: 'configuration' });
  });

  test('seccomp EPERM, ENOSYS, old kernels and a missing koffi are each reported as such', async () => {
    const cases = [
      [{ setupErrno: 1 }, 'setup-EPERM', 'seccomp'],
      [{ setupErrno: 38 }, 'setup-ENOSYS', 'CONFIG_IO_URING'],
      [{ kernelRelease: '5.10.0-28-amd64' }, 'kernel-too-old', '5.10.0'],
      [{ koffiMissing: true }, 'koffi-missing', 'koffi'],
    ] as const;
    for (const [probe, code, text] of cases) {
      const io = await createPlatformIO({ probe });
      try {
        expect(io.backend).toBe('fallback');
        const r = io.selection.rejected.find((x) => x.backend === 'io_uring');
        expect(r?.code).toBe(code);
        expect(r?.reason).toContain(text);
      } finally {
        await io.close();
      }
    }
  });

  test('maxHandles reaches the shared budget, and close() shuts it down', async () => {
    process.env.FORGE_MAX_FILE_HANDLES = '7';
    const io = await createPlatformIO();
    const rm = (io as unknown as { resources: { limit: number; isShutdown: boolean } }).resources;
    expect(rm.limit).toBe(7);
    await io.close();
    expect(rm.isShutdown).toBe(true);
  });

  test('a really missing koffi package (the dynamic import fails) selects the fallback', () => {
    // A copy of dist/ whose node_modules has every package but koffi.
    ensureDist();
    const root = tempDir('nokoffi');
    try {
      fs.cpSync('dist', path.join(root, 'dist'), { recursive: true });
      fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ type: 'module' }));
      fs.mkdirSync(path.join(root, 'node_modules'));
      for (const name of fs.readdirSync('node_modules')) {
        if (name === 'koffi' || name.startsWith('.')) continue;
        fs.symlinkSync(path.resolve('node_modules', name), path.join(root, 'node_modules', name));
      }
      const script = `
        const { createPlatformIO } = await import(${JSON.stringify(path.join(root, 'dist/host/node/io/select.js'))});
        const io = await createPlatformIO();
        const [r] = await io.batchRead([${JSON.stringify(path.join(root, 'package.json'))}]);
        console.log(JSON.stringify({ backend: io.backend, ok: r.ok, rejected: io.selection.rejected.find((x) => x.backend === 'io_uring') }));
        await io.close();
      `;
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, cwd: root });
      expect(res.status).toBe(0);
      const out = JSON.parse(res.stdout.trim()) as { backend: string; ok: boolean; rejected: { code: string; reason: string } };
      expect(out.backend).toBe('fallback');
      expect(out.ok).toBe(true);
      expect(out.rejected.code).toBe('koffi-missing');
      expect(out.rejected.reason).toContain('koffi');
    } finally {
      removeDir(root);
    }
  });
});
