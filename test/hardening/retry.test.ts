import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ForgeError, timeoutError } from '../../host/node/base/errors.js';
import { backoffDelays, MAX_ATTEMPTS, withRetry, type RetryPolicy } from '../../host/node/base/retry.js';

const policyArb = fc.record({
  maxAttempts: fc.integer({ min: 1, max: MAX_ATTEMPTS }),
  initialDelayMs: fc.integer({ min: 0, max: 2000 }),
  extraCap: fc.integer({ min: 0, max: 10_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
  jitter: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  seed: fc.integer(),
});

type PolicyCase = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;

function toPolicy(p: PolicyCase): RetryPolicy {
  let s = p.seed >>> 0;
  // Deterministic per-case random source for jitter.
  const random = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return {
    maxAttempts: p.maxAttempts,
    initialDelayMs: p.initialDelayMs,
    maxDelayMs: p.initialDelayMs + p.extraCap,
    factor: p.factor,
    jitter: p.jitter,
    random,
  };
}

function retryable(): ForgeError {
  return new ForgeError('network', 'connection reset', { context: { code: 'ECONNRESET' } });
}

describe('withRetry', () => {
  it('Property 10: backoff delays are non-decreasing up to the maximum', async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, async (raw) => {
        const policy = toPolicy(raw);
        const slept: number[] = [];
        const logged: Array<{ attempt: number; delayMs: number }> = [];
        const attempts: Array<{ attempt: number; delayMs: number }> = [];
        let calls = 0;
        await expect(
          withRetry(
            () => {
              calls++;
              throw retryable();
            },
            {
              ...policy,
              sleep: async (ms) => void slept.push(ms),
              logger: {
                warn: (o) => void ('delayMs' in o && logged.push(o as { attempt: number; delayMs: number })),
                debug: (o) => void attempts.push(o as { attempt: number; delayMs: number }),
              },
            },
          ),
        ).rejects.toBeInstanceOf(ForgeError);
        // At most 5 attempts, exactly maxAttempts for an always-retryable failure.
        expect(calls).toBe(raw.maxAttempts);
        expect(calls).toBeLessThanOrEqual(MAX_ATTEMPTS);
        expect(slept).toHaveLength(raw.maxAttempts - 1);
        for (let i = 0; i < slept.length; i++) {
          expect(slept[i]).toBeGreaterThanOrEqual(0);
          expect(slept[i]).toBeLessThanOrEqual(policy.maxDelayMs!);
          if (i > 0) expect(slept[i]).toBeGreaterThanOrEqual(slept[i - 1]!);
        }
        // Without jitter the delays are exactly the capped exponential schedule.
        if (raw.jitter === 0) {
          slept.forEach((d, i) => expect(d).toBe(Math.min(policy.maxDelayMs!, Math.round(raw.initialDelayMs * raw.factor ** i))));
        }
        // Each retry logged with its attempt number and delay.
        expect(logged.map((l) => l.attempt)).toEqual(slept.map((_, i) => i + 1));
        expect(logged.map((l) => l.delayMs)).toEqual(slept);
        // Each attempt logged with its number and the delay waited before it.
        expect(attempts.map((a) => [a.attempt, a.delayMs])).toEqual([[1, 0], ...slept.map((d, i) => [i + 2, d])]);
      }),
      { numRuns: 200 },
    );
  });

  it('Property 10 with real time: the default sleep waits at least each configured delay before each attempt', async () => {
    // A lower bound on waiting, not a speed check. Node timers have 1 ms resolution and may fire
    // up to 1 ms "early" against performance.now(), hence the 1 ms per wait.
    const policies: RetryPolicy[] = [
      { maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 60 }, // 20, 40, 60, 60
      { maxAttempts: 4, initialDelayMs: 15, maxDelayMs: 1000, factor: 3 }, // 15, 45, 135
      { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 50 }, // 50, 50
    ];
    for (const policy of policies) {
      const expected = backoffDelays(policy);
      const at: number[] = [];
      const t0 = performance.now();
      const err = (await withRetry(() => {
        at.push(performance.now());
        throw retryable();
      }, policy).catch((e: unknown) => e)) as ForgeError;
      const elapsed = performance.now() - t0;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.context.attempts).toBe(policy.maxAttempts);
      expect(at).toHaveLength(policy.maxAttempts!);
      const sum = expected.reduce((a, b) => a + b, 0);
      expect(elapsed).toBeGreaterThanOrEqual(sum - expected.length);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(expected[i - 1]! - 1);
    }
  });

  it('backoffDelays gives the documented default schedule', () => {
    expect(backoffDelays()).toEqual([100, 200, 400, 800]);
    expect(backoffDelays({ initialDelayMs: 100, maxDelayMs: 500 })).toEqual([100, 200, 400, 500]);
  });

  it('rejects more than 5 attempts', () => {
    expect(() => backoffDelays({ maxAttempts: 6 })).toThrow(/maxAttempts must be an integer from 1 to 5/);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    const err = await withRetry(
      () => {
        calls++;
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
      { sleep: async () => undefined },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).category).toBe('filesystem');
    expect((err as ForgeError).context.retryCount).toBe(0);
  });

  it('retries transient filesystem codes and returns the eventual result', async () => {
    let calls = 0;
    const v = await withRetry(
      () => {
        if (++calls < 3) throw Object.assign(new Error('busy'), { code: 'EBUSY' });
        return 42;
      },
      { sleep: async () => undefined },
    );
    expect(v).toBe(42);
    expect(calls).toBe(3);
  });

  it('the final error says how many retries were made', async () => {
    const err = (await withRetry(() => Promise.reject(retryable()), { sleep: async () => undefined }).catch((e: unknown) => e)) as ForgeError;
    expect(err.context.retryCount).toBe(4);
  });

  it('an attempt timeout produces a timeout error naming the duration, and is retried', async () => {
    let calls = 0;
    const err = (await withRetry(
      () => {
        calls++;
        return new Promise<never>(() => undefined);
      },
      { attemptTimeoutMs: 30, maxAttempts: 2, operation: 'put', sleep: async () => undefined },
    ).catch((e: unknown) => e)) as ForgeError;
    expect(calls).toBe(2);
    expect(err.category).toBe('timeout');
    expect(err.message).toContain('30 ms');
    expect(err.context.durationMs).toBe(30);
    expect(timeoutError('x', 1234).message).toContain('1234 ms');
  });

  it('an AbortSignal stops it during a backoff sleep', async () => {
    const ac = new AbortController();
    let calls = 0;
    const p = withRetry(
      () => {
        calls++;
        throw retryable();
      },
      { signal: ac.signal, initialDelayMs: 10_000, maxDelayMs: 10_000 },
    );
    setTimeout(() => ac.abort(), 20);
    const t0 = Date.now();
    const err = (await p.catch((e: unknown) => e)) as ForgeError;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err.message).toMatch(/aborted/);
    expect(err.isRetryable()).toBe(false);
  });

  it('an already-aborted signal prevents any attempt', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expect(withRetry(() => void calls++, { signal: ac.signal })).rejects.toThrow(/aborted/);
    expect(calls).toBe(0);
  });
});
