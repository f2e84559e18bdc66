/**
 * Platform I/O retries transient errors on the real code with a real failure: a child process lowers
 * its own RLIMIT_NOFILE (prlimit) so its next open fails with EMFILE; the parent raises the limit again
 * (prlimit --pid) once the child reports its first retry, and the read then succeeds. Without the
 * raise, the read fails after the retries with EMFILE, category filesystem, and the retries counted.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, ensureDist, removeDir, tempDir } from './helpers.js';
import { setRetryDefaults } from '../../host/node/base/retry.js';
import { requireTool } from '../support/reference-tools.js';

const hasPrlimit = process.platform === 'linux' && requireTool('prlimit', 'util-linux', 'retries of platform I/O under a lowered fd limit');
const CHILD = path.resolve(__dirname, 'fixtures/fd-limit-child.mjs');

let dir: string;
let file: string;
beforeAll(() => {
  ensureDist();
  dir = tempDir('retry');
  file = path.join(dir, 'data.bin');
  fs.writeFileSync(file, Buffer.alloc(12_345, 9));
});
afterAll(() => removeDir(dir));

interface Outcome {
  result: { ok: boolean; length?: number; code?: string; category?: string; retryCount?: number };
  retries: string[];
}

/** Runs the child; when `raise`, lifts its fd limit after its first retry. */
function run(backend: string, op: string, raise: boolean): Promise<Outcome> {
  const child = spawn(process.execPath, [CHILD, backend, file, op], { stdio: ['ignore', 'pipe', 'inherit'] });
  const retries: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('RETRY ')) {
        retries.push(line);
        if (raise && retries.length === 1) execFileSync('prlimit', ['--pid', String(child.pid), '--nofile=4096:']);
      } else if (line.startsWith('RESULT ')) {
        resolve({ result: JSON.parse(line.slice(7)), retries });
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) without a result`)));
  });
}

const CASES: Array<[backend: string, op: string]> = [
  ['fallback', 'read'],
  ['fallback', 'readAll'],
  ['io_uring', 'safe'],
  ['positional', 'read'],
  ['positional', 'safe'],
];

describe.runIf(hasPrlimit)('retry on EMFILE, under a real lowered fd limit', () => {
  for (const [backend, op] of CASES) {
    test(`${backend} ${op}: succeeds once the limit is raised during the retries`, async () => {
      const { result, retries } = await run(backend, op, true);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries[0]).toMatch(/^RETRY 1 EMFILE$/);
      expect(result).toMatchObject({ ok: true, length: 12_345 });
    }, 30_000);

    test(`${backend} ${op}: fails with EMFILE (filesystem) after the retries when the limit stays`, async () => {
      const { result, retries } = await run(backend, op, false);
      expect(result).toMatchObject({ ok: false, code: 'EMFILE', category: 'filesystem', retryCount: 4 });
      expect(retries.map((r) => r.split(' ')[2])).toEqual(['EMFILE', 'EMFILE', 'EMFILE', 'EMFILE']);
    }, 30_000);
  }
});

describe.runIf(process.platform === 'linux')('non-transient errors fail at once', () => {
  for (const b of BACKENDS) {
    test(`${b.name}: a missing file is ENOENT with no retry`, async () => {
      let retries = 0;
      const prev = setRetryDefaults({ onRetry: () => retries++ });
      const io = b.make();
      try {
        const [r] = await io.batchRead([path.join(dir, 'missing')]);
        expect(!r!.ok && r!.error.context.code).toBe('ENOENT');
        await expect(io.readAll(path.join(dir, 'missing'))).rejects.toMatchObject({ category: 'filesystem' });
        expect(retries).toBe(0);
      } finally {
        setRetryDefaults(prev);
        await io.close();
      }
    });
  }
});
