// SQLITE_BUSY is retried: a second real connection holds a write transaction (BEGIN IMMEDIATE);
// a write through the Index succeeds once it is released, and fails with the code, retryable,
// after the retry limit when it is never released.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Index } from '../../host/node/index-db/index.js';
import { setRetryDefaults } from '../../host/node/base/retry.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { tempDir } from '../store/helpers.js';

const HASH = 'ab'.repeat(32);

describe('index under a held write lock', () => {
  afterEach(() => setRetryDefaults({}));

  it("a write waits out another connection's write transaction through retries", async () => {
    const t = tempDir();
    const retries: string[] = [];
    setRetryDefaults({ initialDelayMs: 50, maxDelayMs: 400, onRetry: (e) => retries.push(`${e.operation}:${e.error.code}`) });
    const index = await Index.open(join(t.dir, 'index.db'), { busyTimeoutMs: 20 });
    const other = new Database(join(t.dir, 'index.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      other.prepare("INSERT INTO state(key, value) VALUES ('holder', '1')").run();
      // Released only after the first attempts have failed (a counter, not a sleep, proves it).
      const released = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (retries.length >= 2) {
            clearInterval(check);
            other.exec('COMMIT');
            resolve();
          }
        }, 5);
      });
      const seq = await index.addVersion({ path: 'a.txt', kind: 'created', hash: HASH, size: 1 });
      await released;
      expect(seq).toBeGreaterThan(0);
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(retries[0]).toBe('index addVersions:SQLITE_BUSY');
      expect((await index.latest('a.txt'))?.hash).toBe(HASH);
      expect(await index.getState('holder')).toBe(1);
    } finally {
      other.close();
      await index.close();
      t.cleanup();
    }
  });

  it('never released: fails with SQLITE_BUSY, retryable, after the attempts', async () => {
    const t = tempDir();
    setRetryDefaults({ initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 });
    const index = await Index.open(join(t.dir, 'index.db'), { busyTimeoutMs: 10 });
    const other = new Database(join(t.dir, 'index.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const err = await index.addVersion({ path: 'a.txt', kind: 'created', hash: HASH, size: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForgeError);
      const fe = err as ForgeError;
      expect(fe.code).toBe('SQLITE_BUSY');
      expect(fe.isRetryable()).toBe(true);
      expect(fe.context.retryCount ?? fe.context['attempts']).toBeTruthy();
      other.exec('ROLLBACK');
      expect(await index.latest('a.txt')).toBeUndefined();
    } finally {
      other.close();
      await index.close();
      t.cleanup();
    }
  });
});
