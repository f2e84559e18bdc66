/**
 * installRetryReporting: the config's retry.* become every withRetry call's defaults, and each retry
 * is counted in forge_retries_total{op,code} and logged at warn with its attempt number. The transient
 * failure is real: a second better-sqlite3 connection holds a write transaction (SQLITE_BUSY), and is
 * released from the retry observer (no sleeps, no mocks).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { retryDefaults, withRetry } from '../../host/node/base/retry.js';
import { createLogger } from '../../host/node/runtime/logging.js';
import { Metrics } from '../../host/node/runtime/metrics.js';
import { installRetryReporting } from '../../host/node/runtime/retry-reporting.js';

let tmp = '';
let uninstall: (() => void) | undefined;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), 'forge-retry-rep-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  uninstall?.();
  uninstall = undefined;
});

function setup(name: string) {
  const file = join(tmp, `${name}.db`);
  const holder = new Database(file);
  holder.exec('CREATE TABLE t (v INTEGER)');
  // timeout 0: the writer sees SQLITE_BUSY at once instead of waiting inside SQLite.
  const writer = new Database(file, { timeout: 0 });
  holder.exec('BEGIN IMMEDIATE'); // holds the write lock
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  const metrics = new Metrics();
  return { holder, writer, lines, logger, metrics };
}

async function retriesCounted(metrics: Metrics): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
  const all = (await metrics.json()) as Array<{ name: string; values: Array<{ labels: Record<string, unknown>; value: number }> }>;
  return all.find((m) => m.name === 'forge_retries_total')?.values ?? [];
}

describe('installRetryReporting', () => {
  it('sets the process-wide defaults from config retry.* and restores the previous ones', () => {
    const before = retryDefaults();
    uninstall = installRetryReporting({ config: { retry: { maxAttempts: 3, baseDelayMs: 7, maxDelayMs: 9 } } });
    expect(retryDefaults()).toMatchObject({ maxAttempts: 3, initialDelayMs: 7, maxDelayMs: 9 });
    uninstall();
    uninstall = undefined;
    expect(retryDefaults()).toEqual(before);
    expect(retryDefaults().maxAttempts).toBeUndefined();
  });

  it('SQLITE_BUSY from a connection holding a write transaction: retried, counted, logged at warn; succeeds once released', async () => {
    const { holder, writer, lines, logger, metrics } = setup('released');
    uninstall = installRetryReporting({
      config: { retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 4 } },
      logger,
      metrics,
      // Release the lock after the second failed attempt.
      onRetry: (e) => void (e.attempt === 2 && holder.exec('COMMIT')),
    });
    let calls = 0;
    // No policy at the call site: attempts, delays, logger and counting all come from the defaults.
    await withRetry(
      () => {
        calls++;
        writer.prepare('INSERT INTO t VALUES (?)').run(calls);
      },
      { operation: 'index.insert' },
    );
    expect(calls).toBe(3);
    expect(writer.prepare('SELECT v FROM t').all()).toEqual([{ v: 3 }]);
    expect(await retriesCounted(metrics)).toEqual([{ labels: { op: 'index.insert', code: 'SQLITE_BUSY' }, value: 2 }]);
    const warns = lines.filter((l) => l['level'] === 'warn' && l['operation'] === 'index.insert');
    expect(warns.map((w) => w['attempt'])).toEqual([1, 2]);
    expect(warns.map((w) => w['delayMs'])).toEqual([1, 2]);
    expect(String(warns[0]!['message'])).toMatch(/attempt 1 failed \(filesystem\)/);
    holder.close();
    writer.close();
  });

  it('still held after retry.maxAttempts: fails as a retryable filesystem error with the attempts in its context', async () => {
    const { holder, writer, logger, metrics } = setup('held');
    uninstall = installRetryReporting({ config: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } }, logger, metrics });
    let calls = 0;
    const err = (await withRetry(
      () => {
        calls++;
        writer.prepare('INSERT INTO t VALUES (1)').run();
      },
      { operation: 'index.insert' },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(err).toBeInstanceOf(ForgeError);
    expect(calls).toBe(3);
    expect(err.category).toBe('filesystem');
    expect(err.code).toBe('SQLITE_BUSY');
    expect(err.isRetryable()).toBe(true);
    expect(err.context).toMatchObject({ attempts: 3, maxAttempts: 3, retryCount: 2, operation: 'index.insert' });
    // Two retries were made (attempt 3 was the last; no retry follows it).
    expect(await retriesCounted(metrics)).toEqual([{ labels: { op: 'index.insert', code: 'SQLITE_BUSY' }, value: 2 }]);
    holder.exec('ROLLBACK');
    holder.close();
    writer.close();
  });

  it('a non-retryable error is neither retried nor counted', async () => {
    const metrics = new Metrics();
    uninstall = installRetryReporting({ config: { retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 } }, metrics });
    let calls = 0;
    const err = (await withRetry(
      () => {
        calls++;
        throw Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
      },
      { operation: 'index.insert' },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(calls).toBe(1);
    expect(err.category).toBe('validation');
    expect(err.context.attempts).toBe(1);
    expect(await retriesCounted(metrics)).toEqual([]);
  });
});
