import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ERROR_CATEGORIES, type ErrorCategory } from '../../host/node/base/errors.js';
import { Metrics } from '../../host/node/runtime/metrics.js';
import { parseHostPort, startMetricsServer, type MetricsServer } from '../../host/node/runtime/metrics-server.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** A small, independent parser of the Prometheus text format (0.0.4). */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `malformed sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    if (m![3]) for (const lm of m![3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, '$1');
    const v = m![4]!;
    samples.push({ name: m![1]!, labels, value: v === '+Inf' ? Infinity : v === 'NaN' ? NaN : Number(v) });
  }
  return { samples, types };
}

const eventArb = fc.oneof(
  fc.record({ t: fc.constant('files' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
  fc.record({
    t: fc.constant('op' as const),
    op: fc.constantFrom('put', 'get', 'batchRead', 'batchWrite'),
    backend: fc.constantFrom('io_uring', 'fallback'),
    ok: fc.boolean(),
    ms: fc.double({ min: 0, max: 20_000, noNaN: true }),
  }),
  fc.record({ t: fc.constant('cache' as const), kind: fc.constantFrom('read' as const, 'put' as const), hit: fc.boolean() }),
  fc.record({ t: fc.constant('error' as const), category: fc.constantFrom(...ERROR_CATEGORIES) }),
);

describe('metrics endpoint', () => {
  const metrics = new Metrics();
  let server: MetricsServer;
  beforeAll(async () => {
    server = await startMetricsServer(metrics, { address: '127.0.0.1:0' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('Property 18: /metrics and /metrics.json carry valid files_watched, operations_total, cache_hit_rate and errors_total', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 60 }), async (events) => {
        metrics.reset();
        let files = 0;
        const ops = new Map<string, number>();
        const errors = new Map<ErrorCategory, number>(ERROR_CATEGORIES.map((c) => [c, 0]));
        let hits = 0;
        let lookups = 0;
        for (const e of events) {
          if (e.t === 'files') {
            metrics.setFilesWatched(e.n);
            files = e.n;
          } else if (e.t === 'op') {
            metrics.observeOperation(e.op, e.backend, e.ok ? 'ok' : 'error', e.ms);
            const k = `${e.op}|${e.backend}|${e.ok ? 'ok' : 'error'}`;
            ops.set(k, (ops.get(k) ?? 0) + 1);
          } else if (e.t === 'cache') {
            metrics.recordCacheLookup(e.kind, e.hit);
            lookups++;
            if (e.hit) hits++;
          } else {
            metrics.recordError(e.category);
            errors.set(e.category, errors.get(e.category)! + 1);
          }
        }
        const rate = lookups === 0 ? 0 : hits / lookups;

        const res = await fetch(`${server.url}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const { samples, types } = parseProm(await res.text());
        expect(types.get('forge_files_watched')).toBe('gauge');
        expect(types.get('forge_operations_total')).toBe('counter');
        expect(types.get('forge_cache_hit_rate')).toBe('gauge');
        expect(types.get('forge_errors_total')).toBe('counter');
        const one = (name: string): number => samples.find((s) => s.name === name)!.value;
        expect(one('forge_files_watched')).toBe(files);
        expect(one('forge_cache_hit_rate')).toBeCloseTo(rate, 9);
        expect(one('forge_cache_hit_rate')).toBeGreaterThanOrEqual(0);
        expect(one('forge_cache_hit_rate')).toBeLessThanOrEqual(1);
        const opSamples = samples.filter((s) => s.name === 'forge_operations_total');
        expect(new Map(opSamples.map((s) => [`${s.labels.op}|${s.labels.backend}|${s.labels.result}`, s.value]))).toEqual(ops);
        const errSamples = samples.filter((s) => s.name === 'forge_errors_total');
        expect(new Map(errSamples.map((s) => [s.labels.category as ErrorCategory, s.value]))).toEqual(errors);
        // Histogram count agrees with the operations.
        const histCount = samples.filter((s) => s.name === 'forge_io_latency_seconds_count').reduce((a, s) => a + s.value, 0);
        expect(histCount).toBe([...ops.values()].reduce((a, b) => a + b, 0));
        for (const s of samples) expect(Number.isNaN(s.value)).toBe(false);

        const jres = await fetch(`${server.url}/metrics.json`);
        expect(jres.status).toBe(200);
        expect(jres.headers.get('content-type')).toBe('application/json');
        const json = (await jres.json()) as Array<{ name: string; type: string; values: Array<{ labels: Record<string, string>; value: number }> }>;
        const byName = new Map(json.map((m) => [m.name, m]));
        expect(byName.get('forge_files_watched')!.values[0]!.value).toBe(files);
        expect(byName.get('forge_cache_hit_rate')!.values[0]!.value).toBeCloseTo(rate, 9);
        expect(new Map(byName.get('forge_operations_total')!.values.map((v) => [`${v.labels.op}|${v.labels.backend}|${v.labels.result}`, v.value]))).toEqual(
          ops,
        );
        expect(new Map(byName.get('forge_errors_total')!.values.map((v) => [v.labels.category as ErrorCategory, v.value]))).toEqual(errors);
      }),
      { numRuns: 100 },
    );
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('binds loopback only unless allowed', async () => {
    await expect(startMetricsServer(metrics, { address: '0.0.0.0:0' })).rejects.toThrow(/not loopback/);
    const s = await startMetricsServer(metrics, { address: '0.0.0.0:0', allowRemote: true });
    expect((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status).toBe(200);
    await s.close();
    await expect(startMetricsServer(metrics, { address: 'localhost' })).rejects.toThrow(/host:port/);
  });

  it('a port in use is a network ForgeError', async () => {
    await expect(startMetricsServer(metrics, { address: `127.0.0.1:${server.port}` })).rejects.toMatchObject({ category: 'network' });
  });

  it('parses host:port', () => {
    expect(parseHostPort('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    for (const bad of ['127.0.0.1', ':80', '1.2.3.4:65536', '999.1.1.1:80', '[zz]:1', 'a b:1', 'host:-1']) expect(parseHostPort(bad), bad).toBeUndefined();
  });

  it('ops/s is counted over the sliding window', () => {
    let now = 100_000;
    const m = new Metrics({ windowMs: 10_000, now: () => now });
    for (let i = 0; i < 50; i++) m.observeOperation('put', 'fallback', 'ok', 1);
    expect(m.opsPerSecond()).toBe(5);
    now += 5_000;
    for (let i = 0; i < 20; i++) m.observeOperation('put', 'fallback', 'ok', 1);
    expect(m.opsPerSecond()).toBe(7);
    now += 6_000; // the first 50 fall out of the window
    expect(m.opsPerSecond()).toBe(2);
    now += 20_000;
    expect(m.opsPerSecond()).toBe(0);
  });
});
