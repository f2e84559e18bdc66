// Graceful degradation (Property 2, fallback guarantee): with io_uring refused
// (simulated EPERM from io_uring_setup, or kernel.io_uring_disabled = 2), with
// koffi unavailable (a child process in which `koffi` cannot be resolved), and
// with FORGE_IO_BACKEND=fallback, createPlatformIO() selects the fallback, says
// why, and the I/O, watcher and store properties pass on it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlatformIO, type CreatePlatformIOOptions } from '../../host/node/io/select.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
// Plain ESM shared with the child process below.
import { ioChecks, storeChecks, watchChecks } from './fallback-checks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const saved = { ...process.env };
afterEach(() => {
  for (const k of ['FORGE_IO_BACKEND', 'FORGE_TEST_IO_URING_DISABLED']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const scenarios: Array<{ name: string; env: Record<string, string>; options: CreatePlatformIOOptions; code: string }> = [
  { name: 'io_uring_setup refused with EPERM (seccomp, simulated)', env: {}, options: { probe: { setupErrno: 1 } }, code: 'setup-EPERM' },
  { name: 'kernel.io_uring_disabled = 2 (simulated)', env: { FORGE_TEST_IO_URING_DISABLED: '2' }, options: {}, code: 'io_uring-disabled' },
  { name: 'FORGE_IO_BACKEND=fallback', env: { FORGE_IO_BACKEND: 'fallback' }, options: {}, code: 'not-forced' },
];

describe.runIf(process.platform === 'linux')('Property 2: fallback guarantee (io_uring made unavailable, every operation still succeeds)', () => {
  for (const s of scenarios) {
    it(`${s.name}: selects the fallback, says why, and the I/O, watcher and store properties pass`, async () => {
      Object.assign(process.env, s.env);
      const io = await createPlatformIO(s.options);
      try {
        expect(io.backend).toBe('fallback');
        const r = io.selection.rejected.find((x) => x.backend === 'io_uring');
        expect(r?.code).toBe(s.code);
        expect(r?.reason.length).toBeGreaterThan(0);
        await ioChecks(io, 100);
        await watchChecks(io);
        await storeChecks(BlobStore, io, 100);
      } finally {
        await io.close();
      }
    });
  }

  it('koffi unavailable (child process where `koffi` cannot be resolved): fallback, and the same properties pass', () => {
    const dist = path.resolve(here, '../../dist/host/node/io/select.js');
    expect(fs.existsSync(dist), 'dist/ must be built (npx tsc -p tsconfig.json)').toBe(true);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.FORGE_IO_BACKEND;
    delete env.FORGE_TEST_IO_URING_DISABLED;
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, ['--import', path.join(here, 'fixtures/no-koffi-register.mjs'), path.join(here, 'fixtures/no-koffi-child.mjs')], {
      encoding: 'utf8',
      env,
      timeout: 110_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let out: {
      koffiImport: string;
      backend?: string;
      rejected: Array<{ backend: string; code: string; reason: string }>;
      checks: Record<string, string>;
      error?: string;
    };
    try {
      out = JSON.parse(line) as typeof out;
    } catch {
      throw new Error(`child printed no result (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    expect(out.error).toBeUndefined();
    expect(out.koffiImport).toBe('ERR_MODULE_NOT_FOUND'); // the simulation is real: koffi cannot be imported
    expect(out.backend).toBe('fallback');
    expect(out.rejected.find((x) => x.backend === 'io_uring')?.code).toBe('koffi-missing');
    expect(out.checks).toEqual({ io: 'ok', watch: 'ok', store: 'ok' });
  });
});
