// The rename that commits a synced object (objects/tmp/<unique> -> objects/<2>/<62>) is retried on
// transient errors and on nothing else. The transient error is a real one: rename(2) fails with
// EBUSY when its destination is a mount point, so a file is bind-mounted over the object's final name
// (a damaged object is there, so the put repairs it and must rename over it) and unmounted when the
// first retry is announced. The permanent one is real too: a rename into a directory that is another
// mount (a bind mount of a fresh directory over the fan-out directory) fails with EXDEV.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { setRetryDefaults, type RetryEvent } from '../../host/node/base/retry.js';
import { Metrics } from '../../host/node/runtime/metrics.js';
import { installRetryReporting } from '../../host/node/runtime/retry-reporting.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { objectDir, objectPath, tmpDir } from '../../host/node/store/object-path.js';
import { renameRetrying } from '../../host/node/store/tmp-files.js';
import { requireRoot, requireTool } from '../support/reference-tools.js';
import { sha256Hex, tempDir } from './helpers.js';

const root = requireRoot('the store rename retry under a real EBUSY / EXDEV (bind mounts)');
const lz4 = requireTool('lz4', 'lz4', 'decoding the object renamed after a retry with the lz4 CLI');

function run(cmd: string, args: string[], input?: Uint8Array): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Whether `path` is a mount point right now (util-linux mountpoint). */
const mounted = (path: string): boolean => spawnSync('mountpoint', ['-q', path]).status === 0;

const mounts: string[] = [];
function bindMount(source: string, target: string): void {
  run('mount', ['--bind', source, target]);
  mounts.push(target);
}

afterEach(() => {
  for (const m of mounts.splice(0)) if (mounted(m)) spawnSync('umount', [m]);
  setRetryDefaults({});
});

describe('store rename retry', () => {
  it.skipIf(!root || !lz4)('EBUSY (the final name is a mount point) is retried; the put then succeeds and the object decodes', async () => {
    const t = tempDir('forge-rename-');
    const store = await BlobStore.open(join(t.dir, 'store'), { sync: true, io: false });
    try {
      const content = randomBytes(48 * 1024);
      const hash = sha256Hex(content);
      const final = objectPath(join(t.dir, 'store'), hash);
      mkdirSync(objectDir(join(t.dir, 'store'), hash), { recursive: true });
      // A damaged object under the final name (the put must replace it), with a file mounted over it.
      writeFileSync(final, 'not an LZ4 frame');
      writeFileSync(join(t.dir, 'over'), 'also not an LZ4 frame');
      bindMount(join(t.dir, 'over'), final);

      const metrics = new Metrics();
      const warned: Array<Record<string, unknown>> = [];
      const events: RetryEvent[] = [];
      installRetryReporting({
        config: { retry: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100 } },
        logger: { warn: (obj: Record<string, unknown>) => void warned.push(obj), debug: () => undefined },
        metrics,
        onRetry: (e) => {
          events.push(e);
          // The cause goes away while the put waits to retry.
          if (e.operation === 'store rename') run('umount', [final]);
        },
      });

      const put = await store.put(content);
      expect(put).toMatchObject({ hash, size: content.length, chunks: 1 });
      expect(put.storedBytes).toBeGreaterThan(0);

      // Exactly one retry, of the rename, for EBUSY; counted and logged.
      expect(events.map((e) => [e.operation, e.attempt, e.error.code])).toEqual([['store rename', 1, 'EBUSY']]);
      expect(mounted(final)).toBe(false);
      expect(await metrics.prometheusText()).toMatch(/forge_retries_total\{op="store rename",code="EBUSY"\} 1/);
      expect(warned.length).toBeGreaterThanOrEqual(1);

      // The object under the final name is the new frame: the lz4 CLI decodes it to the content.
      const decoded = spawnSync('lz4', ['-dc', final], { maxBuffer: 1 << 24 });
      expect(decoded.status).toBe(0);
      expect(run('sha256sum', [], decoded.stdout).split(' ')[0]).toBe(hash);
      expect(sha256Hex(await store.get(hash))).toBe(hash);
      // No tmp file is left behind.
      expect(readdirSync(tmpDir(join(t.dir, 'store')))).toEqual([]);
    } finally {
      await store.close();
      for (const m of mounts.splice(0)) if (mounted(m)) spawnSync('umount', [m]);
      t.cleanup();
    }
  });

  it.skipIf(!root).each([
    ['synced (threadpool rename, retried on transient errors)', true],
    ['unsynced (rename on this thread)', false],
  ])('EXDEV (the fan-out directory is another mount) fails the put at once, after one attempt: %s', async (_name, sync) => {
    const t = tempDir('forge-rename-');
    const dir = join(t.dir, 'store');
    const store = await BlobStore.open(dir, { sync, io: false });
    try {
      const content = randomBytes(8 * 1024);
      const hash = sha256Hex(content);
      const fanout = objectDir(dir, hash);
      mkdirSync(fanout, { recursive: true });
      mkdirSync(join(t.dir, 'elsewhere'));
      bindMount(join(t.dir, 'elsewhere'), fanout);
      const events: RetryEvent[] = [];
      setRetryDefaults({ maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 100, onRetry: (e) => void events.push(e) });

      const err = (await store.put(content).catch((e: unknown) => e)) as ForgeError;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.code).toBe('EXDEV');
      expect(err.context).toMatchObject({ operation: 'put', file: objectPath(dir, hash) });
      // withRetry's count survives the put's context (the unsynced path does not retry at all).
      if (sync) expect(err.context).toMatchObject({ attempts: 1, retryCount: 0 });
      expect(err.isRetryable()).toBe(false);
      expect(events).toEqual([]);
      // Nothing half-written anywhere: the tmp file was removed, nothing reached the other mount.
      expect(readdirSync(tmpDir(dir))).toEqual([]);
      expect(readdirSync(join(t.dir, 'elsewhere'))).toEqual([]);
      // Once the mount is gone the same put succeeds.
      run('umount', [fanout]);
      expect((await store.put(content)).hash).toBe(hash);
      expect(sha256Hex(await store.get(hash))).toBe(hash);
    } finally {
      await store.close();
      for (const m of mounts.splice(0)) if (mounted(m)) spawnSync('umount', [m]);
      t.cleanup();
    }
  });

  it('ENOENT (the tmp file is gone) fails at once: attempts 1, no retry', async () => {
    const t = tempDir('forge-rename-');
    const events: RetryEvent[] = [];
    setRetryDefaults({ maxAttempts: 5, initialDelayMs: 20, onRetry: (e) => void events.push(e) });
    try {
      const to = join(t.dir, 'final');
      const err = (await renameRetrying(join(t.dir, 'missing-tmp'), to).catch((e: unknown) => e)) as ForgeError;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.code).toBe('ENOENT');
      expect(err.context).toMatchObject({ file: to, operation: 'store rename', attempts: 1, retryCount: 0 });
      expect(events).toEqual([]);
      // And a rename that works needs no retry either.
      writeFileSync(join(t.dir, 'tmp'), 'x');
      await renameRetrying(join(t.dir, 'tmp'), to);
      expect(readFileSync(to, 'utf8')).toBe('x');
      expect(events).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
