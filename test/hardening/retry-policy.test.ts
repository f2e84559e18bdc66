/**
 * withRetry in detail: policy validation (each bad field named), process-wide defaults, jitter with a
 * fixed random source, the abort error at each point, attempt signals, the give-up warning and the
 * log fields. Written against the mutation-testing survivors of retry.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { backoffDelays, retryDefaults, setRetryDefaults, withRetry, type RetryPolicy } from '../../host/node/base/retry.js';

const busy = (): Error => Object.assign(new Error('busy'), { code: 'EBUSY' });
const noSleep = { sleep: async () => undefined };

afterEach(() => void setRetryDefaults({}));

function policyError(p: RetryPolicy): ForgeError {
  try {
    backoffDelays(p);
  } catch (e) {
    return e as ForgeError;
  }
  throw new Error(`expected ${JSON.stringify(p)} to be refused`);
}

describe('retry policy validation', () => {
  it('each bad field is named with its value; several are reported together', () => {
    const cases: Array<[RetryPolicy, string]> = [
      [{ maxAttempts: 0 }, 'maxAttempts must be an integer from 1 to 5, got 0'],
      [{ maxAttempts: 6 }, 'maxAttempts must be an integer from 1 to 5, got 6'],
      [{ maxAttempts: 2.5 }, 'maxAttempts must be an integer from 1 to 5, got 2.5'],
      [{ initialDelayMs: -1 }, 'initialDelayMs must be a finite number >= 0, got -1'],
      [{ initialDelayMs: Number.NaN }, 'initialDelayMs must be a finite number >= 0, got NaN'],
      [{ initialDelayMs: Infinity, maxDelayMs: Infinity }, 'initialDelayMs must be a finite number >= 0, got Infinity'],
      [{ initialDelayMs: 100, maxDelayMs: 99 }, 'maxDelayMs must be finite and >= initialDelayMs (100), got 99'],
      [{ maxDelayMs: Infinity }, 'maxDelayMs must be finite and >= initialDelayMs (100), got Infinity'],
      [{ factor: 0.5 }, 'factor must be a finite number >= 1, got 0.5'],
      [{ factor: Infinity }, 'factor must be a finite number >= 1, got Infinity'],
      [{ jitter: -0.1 }, 'jitter must be from 0 to 1, got -0.1'],
      [{ jitter: 1.1 }, 'jitter must be from 0 to 1, got 1.1'],
    ];
    for (const [p, text] of cases) {
      const e = policyError(p);
      expect(e, JSON.stringify(p)).toBeInstanceOf(ForgeError);
      expect(e.category).toBe('validation');
      // NaN and Infinity also fail the maxDelayMs check, which is then reported after it.
      expect(e.message.startsWith(`invalid retry policy: ${text}`), e.message).toBe(true);
      expect(e.context.operation).toBe('withRetry');
    }
    expect(policyError({ maxAttempts: 0, factor: 0 }).message).toBe(
      'invalid retry policy: maxAttempts must be an integer from 1 to 5, got 0; factor must be a finite number >= 1, got 0',
    );
    // The edges are allowed.
    expect(backoffDelays({ maxAttempts: 1 })).toEqual([]);
    expect(backoffDelays({ maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0, jitter: 1, random: () => 0.5 })).toEqual([0]);
    expect(backoffDelays({ maxAttempts: 3, initialDelayMs: 7, maxDelayMs: 7, factor: 1 })).toEqual([7, 7]);
  });

  it('setRetryDefaults validates before replacing, and returns the previous defaults', () => {
    expect(() => setRetryDefaults({ maxAttempts: 9 })).toThrow(/maxAttempts must be an integer from 1 to 5, got 9/);
    expect(() => setRetryDefaults({ initialDelayMs: -1 })).toThrow(/initialDelayMs/);
    expect(() => setRetryDefaults({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs must be finite and >= initialDelayMs \(10\), got 5/);
    expect(() => setRetryDefaults({ maxDelayMs: 50 })).toThrow(/maxDelayMs must be finite and >= initialDelayMs \(100\), got 50/);
    expect(retryDefaults()).toEqual({});
    const first = { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 };
    expect(setRetryDefaults(first)).toEqual({});
    expect(setRetryDefaults({ maxAttempts: 3 })).toEqual(first);
    expect(retryDefaults()).toEqual({ maxAttempts: 3 });
  });
});

describe('process-wide defaults', () => {
  it("apply to calls that do not set them; a call's own policy wins", async () => {
    const warns: Array<Record<string, unknown>> = [];
    const heard: unknown[] = [];
    setRetryDefaults({
      maxAttempts: 3,
      initialDelayMs: 10,
      maxDelayMs: 15,
      logger: { warn: (o) => warns.push(o as Record<string, unknown>) },
      onRetry: (e) => heard.push([e.operation, e.attempt, e.delayMs, e.error.code]),
    });
    const slept: number[] = [];
    let calls = 0;
    await withRetry(
      () =>
        void (
          ++calls < 3 &&
          (() => {
            throw busy();
          })()
        ),
      { operation: 'op', sleep: async (ms) => void slept.push(ms) },
    ).catch(() => undefined);
    expect(calls).toBe(3);
    expect(slept).toEqual([10, 15]);
    expect(heard).toEqual([
      ['op', 1, 10, 'EBUSY'],
      ['op', 2, 15, 'EBUSY'],
    ]);
    expect(warns.map((w) => w['attempt'])).toEqual([1, 2]);
    // The call's own settings win over the defaults.
    const own: number[] = [];
    calls = 0;
    const ownWarns: unknown[] = [];
    await withRetry(
      () => {
        calls++;
        throw busy();
      },
      { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, logger: { warn: (o) => ownWarns.push(o) }, sleep: async (ms) => void own.push(ms) },
    ).catch(() => undefined);
    expect(calls).toBe(2);
    expect(own).toEqual([1]);
    expect(ownWarns).toHaveLength(2); // one retry + the give-up
  });
});

describe('withRetry details', () => {
  it('jitter uses the given random source, shortens delays, and is not drawn without jitter', () => {
    expect(backoffDelays({ initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.5, random: () => 0.5 })).toEqual([75, 150, 300, 600]);
    // A draw that would make a delay shorter than the one before is raised to it.
    let i = 0;
    const seq = [0, 1, 0, 1];
    expect(backoffDelays({ initialDelayMs: 100, maxDelayMs: 150, jitter: 1, random: () => seq[i++]! })).toEqual([100, 100, 150, 150]);
    let draws = 0;
    backoffDelays({ jitter: 0, random: () => (draws++, 0.5) });
    expect(draws).toBe(0);
  });

  it('logs: debug per attempt, warn per retry with nextAttempt, one give-up warning when retries ran out', async () => {
    const debug: Array<[Record<string, unknown>, string | undefined]> = [];
    const warn: Array<[Record<string, unknown>, string | undefined]> = [];
    const logger = {
      debug: (o: object, m?: string) => void debug.push([o as Record<string, unknown>, m]),
      warn: (o: object, m?: string) => void warn.push([o as Record<string, unknown>, m]),
    };
    const err = (await withRetry(
      () => {
        throw busy();
      },
      { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 5, logger, ...noSleep },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(err.context).toMatchObject({ operation: 'operation', attempts: 3, retryCount: 2, maxAttempts: 3 });
    expect(debug.map(([o, m]) => [o['attempt'], o['delayMs'], o['maxAttempts'], m])).toEqual([
      [1, 0, 3, 'operation: attempt 1'],
      [2, 5, 3, 'operation: attempt 2'],
      [3, 5, 3, 'operation: attempt 3'],
    ]);
    expect(warn.map(([o]) => [o['attempt'], o['nextAttempt'], o['gaveUp']])).toEqual([
      [1, 2, undefined],
      [2, 3, undefined],
      [3, undefined, true],
    ]);
    expect(warn[0]![1]).toBe('operation: attempt 1 failed (filesystem); retrying in 5 ms');
    expect(warn[2]![0]).toEqual({ operation: 'operation', attempt: 3, category: 'filesystem', gaveUp: true });
    expect(warn[2]![1]).toBe('operation: giving up after 3 attempt(s)');
    // A non-retryable error: no warning at all.
    warn.length = 0;
    await withRetry(
      () => {
        throw Object.assign(new Error('x'), { code: 'ENOENT' });
      },
      { logger, ...noSleep },
    ).catch(() => undefined);
    expect(warn).toEqual([]);
  });

  it('onRetry hears each retry with attempt, delay and error', async () => {
    const seen: Array<[number, number, string | undefined]> = [];
    let calls = 0;
    expect(
      await withRetry(
        () => {
          if (++calls < 3) throw busy();
          return 'ok';
        },
        { initialDelayMs: 3, maxDelayMs: 100, onRetry: (r) => void seen.push([r.attempt, r.delayMs, r.error.code]), ...noSleep },
      ),
    ).toBe('ok');
    expect(seen).toEqual([
      [1, 3, 'EBUSY'],
      [2, 6, 'EBUSY'],
    ]);
  });

  it('abort errors: before any attempt, during an attempt, during the sleep — each with the attempts made', async () => {
    const pre = new AbortController();
    pre.abort(new Error('early'));
    const e0 = (await withRetry(() => 1, { signal: pre.signal, operation: 'put' }).catch((e: unknown) => e)) as ForgeError;
    expect(e0.message).toBe('put aborted after 0 attempt(s)');
    expect(e0.context).toMatchObject({ attempts: 0, retryCount: 0, code: 'ABORT_ERR', operation: 'put' });
    expect((e0.cause as Error).message).toBe('early');
    expect(e0.suggestions()[0]).toMatch(/cancelled/);
    expect(e0.isRetryable()).toBe(false);

    const during = new AbortController();
    let calls = 0;
    const e1 = (await withRetry(
      async () => {
        calls++;
        during.abort(new Error('mid'));
        throw busy();
      },
      { signal: during.signal, operation: 'put', ...noSleep },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(calls).toBe(1);
    expect(e1.message).toBe('put aborted after 1 attempt(s)');
    expect(e1.context).toMatchObject({ attempts: 1, retryCount: 0, code: 'ABORT_ERR' });

    const sleeping = new AbortController();
    calls = 0;
    const e2 = (await withRetry(
      () => {
        calls++;
        throw busy();
      },
      {
        signal: sleeping.signal,
        operation: 'put',
        sleep: async () => {
          sleeping.abort();
          throw new Error('sleep aborted');
        },
      },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(calls).toBe(1);
    expect(e2.message).toBe('put aborted after 1 attempt(s)');
  });

  it('a sleep that fails for another reason fails the call with that error', async () => {
    const boom = new Error('timer broke');
    const e = await withRetry(
      () => {
        throw busy();
      },
      {
        sleep: async () => {
          throw boom;
        },
      },
    ).catch((x: unknown) => x);
    expect(e).toBe(boom);
  });

  it("with attemptTimeoutMs, the attempt's signal aborts on the caller's abort, with its reason", async () => {
    const outer = new AbortController();
    const reason = new Error('stop');
    let inner: AbortSignal | undefined;
    const p = withRetry(
      (_n, s) => {
        inner = s;
        return new Promise<never>((_, reject) => s!.addEventListener('abort', () => reject(s!.reason)));
      },
      { attemptTimeoutMs: 60_000, signal: outer.signal },
    );
    outer.abort(reason);
    const e = (await p.catch((x: unknown) => x)) as ForgeError;
    expect(inner).not.toBe(outer.signal);
    expect(inner!.aborted).toBe(true);
    expect(inner!.reason).toBe(reason);
    expect(e.message).toMatch(/aborted after 1 attempt/);
    // Without attemptTimeoutMs the caller's own signal is passed through.
    let passed: AbortSignal | undefined;
    const plain = new AbortController();
    await withRetry((_n, s) => void (passed = s), { signal: plain.signal });
    expect(passed).toBe(plain.signal);
  });
});
