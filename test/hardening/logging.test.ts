import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDist, FIXTURES } from './dist.js';
import { ERROR_CATEGORIES, ForgeError, type ErrorCategory } from '../../host/node/base/errors.js';
import { createLogger, LOG_LEVELS, LOG_LEVEL_VALUES, type LogLevel } from '../../host/node/runtime/logging.js';
import { Metrics } from '../../host/node/runtime/metrics.js';

/** A sink that keeps the raw lines the logger wrote. */
function memorySink(): { lines: string[]; write(l: string): void } {
  const lines: string[] = [];
  return { lines, write: (l: string) => void lines.push(l) };
}

function parseLines(raw: string[]): Array<Record<string, unknown>> {
  // pino writes one line per call, each ending in \n.
  return raw.map((l) => {
    expect(l.endsWith('\n')).toBe(true);
    expect(l.slice(0, -1)).not.toContain('\n');
    return JSON.parse(l) as Record<string, unknown>;
  });
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Anything a component might throw: errno-coded errors, CQE results, ForgeErrors, plain values.
const thrownArb = fc.oneof(
  fc
    .record({ code: fc.constantFrom('ENOENT', 'EACCES', 'ECONNRESET', 'ETIMEDOUT', 'EBUSY', 'ENOSYS', 'EILSEQ', 'EWHATEVER'), msg: fc.string() })
    .map(({ code, msg }) => Object.assign(new Error(msg), { code })),
  fc.integer({ min: -140, max: -1 }).map((res) => ({ kind: 'cqe' as const, res })),
  fc
    .record({ cat: fc.constantFrom(...ERROR_CATEGORIES), msg: fc.string({ minLength: 1 }), file: fc.option(fc.string(), { nil: undefined }) })
    .map(({ cat, msg, file }) => new ForgeError(cat, msg, { context: file === undefined ? {} : { file } })),
  fc.string().map((s) => new TypeError(s)),
  fc.string(),
  fc.constant(undefined),
  fc.integer(),
);

const contextArb = fc.record(
  { file: fc.string(), operation: fc.constantFrom('put', 'get', 'batchRead', 'watch'), backend: fc.constantFrom('io_uring', 'fallback') },
  { requiredKeys: [] },
);

describe('structured logging', () => {
  it('Property 11: an error record is complete (timestamp, level, category, message, context, suggestions)', async () => {
    await fc.assert(
      fc.asyncProperty(thrownArb, contextArb, fc.boolean(), async (thrown, ctx, viaError) => {
        const sink = memorySink();
        const metrics = new Metrics();
        const log = createLogger({ destination: sink, metrics });
        if (viaError && thrown instanceof Error) log.error(thrown);
        else log.logError(thrown, ctx);
        const [rec] = parseLines(sink.lines);
        expect(sink.lines).toHaveLength(1);
        expect(rec!.timestamp).toMatch(ISO);
        expect(rec!.level).toBe('error');
        expect(ERROR_CATEGORIES).toContain(rec!.category);
        expect(typeof rec!.message).toBe('string');
        expect((rec!.message as string).length).toBeGreaterThan(0);
        const c = rec!.context as Record<string, unknown>;
        expect(c).toBeTypeOf('object');
        expect(c.timestamp).toMatch(ISO);
        expect(c.platform).toBe(process.platform);
        expect(c.retryCount).toBeTypeOf('number');
        if (!(viaError && thrown instanceof Error)) {
          for (const [k, v] of Object.entries(ctx)) if (!(thrown instanceof ForgeError)) expect(c[k]).toEqual(v);
        }
        expect(Array.isArray(rec!.suggestions)).toBe(true);
        expect((rec!.suggestions as unknown[]).length).toBeGreaterThan(0);
        for (const s of rec!.suggestions as unknown[]) expect(typeof s).toBe('string');
        expect(typeof rec!.retryable).toBe('boolean');
        if (thrown instanceof ForgeError) expect(rec!.category).toBe(thrown.category);
        // The error was counted under its category.
        expect(await metricsCount(metrics, rec!.category as ErrorCategory)).toBe(1);
      }),
      { numRuns: 200 },
    );
  });

  it('Property 16: every log line is JSON with timestamp, level and message', () => {
    const callArb = fc.record({
      level: fc.constantFrom(...LOG_LEVELS),
      shape: fc.constantFrom('msg', 'obj+msg', 'obj', 'error', 'timed'),
      msg: fc.string(),
      obj: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['level', 'timestamp', 'message', 'pid'].includes(k)),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 4 },
      ),
    });
    fc.assert(
      fc.property(fc.array(callArb, { minLength: 1, maxLength: 20 }), (calls) => {
        const sink = memorySink();
        const log = createLogger({ destination: sink, level: 'trace', slowOperationMs: 5, clock: fakeClock([0, 10]) });
        for (const c of calls) {
          if (c.shape === 'msg') log[c.level](c.msg);
          else if (c.shape === 'obj+msg') log[c.level](c.obj, c.msg);
          else if (c.shape === 'obj') log[c.level](c.obj);
          else if (c.shape === 'error') log[c.level](new Error(c.msg));
          else log.timedSync('op', () => 1);
        }
        const recs = parseLines(sink.lines);
        expect(recs.length).toBeGreaterThanOrEqual(calls.length);
        for (const r of recs) {
          expect(r.timestamp).toMatch(ISO);
          expect(LOG_LEVELS).toContain(r.level);
          expect(typeof r.message).toBe('string');
        }
        calls.forEach((c, i) => {
          if (c.shape === 'msg' || c.shape === 'obj+msg') expect(recs[i]!.message).toBe(c.msg);
          if (c.shape === 'error') expect((recs[i]!.message as string).length).toBeGreaterThan(0);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('Property 17: the level filter writes exactly the lines at or above the configured level', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOG_LEVELS), fc.array(fc.constantFrom(...LOG_LEVELS), { maxLength: 40 }), (min, calls) => {
        const sink = memorySink();
        const log = createLogger({ destination: sink, level: min });
        calls.forEach((l, i) => log[l]({ seq: i }, `line ${i}`));
        const recs = parseLines(sink.lines);
        const expected = calls.map((l, i) => ({ l, i })).filter(({ l }) => LOG_LEVEL_VALUES[l] >= LOG_LEVEL_VALUES[min]);
        expect(recs.map((r) => [r.level, r.seq])).toEqual(expected.map(({ l, i }) => [l, i]));
      }),
      { numRuns: 200 },
    );
  });

  it('Property 19: a slow-operation warning carries the operation and its duration', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom<LogLevel>('debug', 'info', 'warn'),
        fc.boolean(),
        async (op, threshold, duration, level, fails) => {
          const sink = memorySink();
          const metrics = new Metrics();
          const log = createLogger({ destination: sink, level, slowOperationMs: threshold, metrics, clock: fakeClock([1000, 1000 + duration]) });
          const run = log.timed(
            op,
            async () => {
              if (fails) throw new Error('boom');
              return 7;
            },
            { backend: 'fallback' },
          );
          if (fails) await expect(run).rejects.toThrow('boom');
          else await expect(run).resolves.toBe(7);
          const recs = parseLines(sink.lines);
          const warns = recs.filter((r) => r.level === 'warn');
          if (duration > threshold) {
            expect(warns).toHaveLength(1);
            expect(warns[0]!.operation).toBe(op);
            expect(warns[0]!.durationMs).toBe(duration);
            expect(warns[0]!.thresholdMs).toBe(threshold);
            expect(warns[0]!.message).toContain(op);
            expect(warns[0]!.message).toContain(`${duration} ms`);
          } else {
            expect(warns).toHaveLength(0);
            // At debug level the timing is still logged.
            const dbg = recs.filter((r) => r.level === 'debug');
            if (level === 'debug') {
              expect(dbg).toHaveLength(1);
              expect(dbg[0]!.operation).toBe(op);
              expect(dbg[0]!.durationMs).toBe(duration);
            } else expect(dbg).toHaveLength(0);
          }
          const json = (await metrics.json()) as Array<{ name: string; values: Array<{ labels: Record<string, string>; value: number }> }>;
          const ops = json.find((m) => m.name === 'forge_operations_total')!;
          expect(ops.values).toEqual([{ labels: { op, backend: 'fallback', result: fails ? 'error' : 'ok' }, value: 1 }]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('every accepted line is on disk whatever way the process ends (exit, uncaught throw, SIGKILL)', () => {
    ensureDist();
    const dir = mkdtempSync(join(tmpdir(), 'forge-logexit-'));
    try {
      for (const how of ['exit', 'throw', 'kill'] as const) {
        const file = join(dir, `${how}.log`);
        const r = spawnSync(process.execPath, [join(FIXTURES, 'log-then-exit.mjs'), file, '2000', how], { encoding: 'utf8', timeout: 30_000 });
        if (how === 'exit') expect(r.status).toBe(3);
        if (how === 'throw') expect(r.status).toBe(1);
        if (how === 'kill') expect(r.signal).toBe('SIGKILL');
        const lines = readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { i: number });
        expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the level is validated', () => {
    expect(() => createLogger({ level: 'loud' as LogLevel })).toThrow(/log level must be one of/);
  });
});

function fakeClock(values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

async function metricsCount(m: Metrics, category: ErrorCategory): Promise<number> {
  const json = (await m.json()) as Array<{ name: string; values: Array<{ labels: Record<string, string>; value: number }> }>;
  return json.find((x) => x.name === 'forge_errors_total')!.values.find((v) => v.labels.category === category)!.value;
}
