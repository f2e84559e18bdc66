/**
 * Shutdown, exits and crash cleanup.
 *
 * Property 21 runs 100 in-process cases (real files, real async writes, the real
 * coordinator and logger; the signal is delivered through `handleSignal`, the
 * function the installed SIGTERM handler calls). Its real-signal counterpart is
 * the signal test (signal.test.ts): 20 child daemons writing through STORE's
 * BlobStore get a real SIGTERM at a random moment.
 *
 * Property 22 runs 150 generated scenarios over the in-process coordinator
 * (exit function recorded instead of process.exit) PLUS a sample of 8 scenarios
 * in child processes with real signals, real crashes and real exit codes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../host/node/runtime/logging.js';
import { Shutdown, type ShutdownPhase } from '../../host/node/runtime/shutdown.js';
import { EXIT_CODES } from '../../host/node/base/exit-codes.js';
import { FIXTURES } from './dist.js';
import { readLog, useChildSandbox } from './child-sandbox.js';

const { children, newDir } = useChildSandbox('forge-shutdown-');

// ------------------------------------------------------------------ Property 21

describe('graceful shutdown', () => {
  it('Property 21: after a graceful shutdown, in-flight writes are complete, logs flushed and state persisted', async () => {
    const writeArb = fc.record({
      size: fc.integer({ min: 1, max: 20_000 }),
      startAt: fc.integer({ min: 0, max: 25 }),
      midPause: fc.integer({ min: 0, max: 15 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 25 }), async (writes, signalAt) => {
        const dir = await newDir();
        const logFile = join(dir, 'forge.log');
        const log = createLogger({ level: 'debug', file: logFile });
        const exits: number[] = [];
        const shutdown = new Shutdown({ timeoutMs: 10_000, logger: log, exit: (c) => void exits.push(c) });
        const started: Array<{ name: string; data: Buffer }> = [];
        const completed: string[] = [];
        let refused = 0;
        shutdown.register({
          name: 'state',
          phase: 'state',
          stop: async () => {
            await fsp.writeFile(join(dir, 'state.tmp'), JSON.stringify({ completed: completed.length, started: started.length }));
            await fsp.rename(join(dir, 'state.tmp'), join(dir, 'state.json'));
          },
        });
        const write = async (i: number, size: number, pause: number): Promise<void> => {
          const data = Buffer.alloc(size, i % 251);
          const name = `obj-${i}`;
          started.push({ name, data });
          const fh = await fsp.open(join(dir, `${name}.tmp`), 'w');
          await fh.write(data, 0, size >> 1);
          await sleep(pause);
          await fh.write(data, size >> 1, size - (size >> 1));
          await fh.close();
          await fsp.rename(join(dir, `${name}.tmp`), join(dir, name));
          completed.push(name);
          log.debug({ name }, 'written');
        };
        const launches = writes.map((w, i) =>
          sleep(w.startAt).then(() => {
            if (shutdown.stopping) {
              refused++; // intake is stopped: no new work
              return;
            }
            void shutdown.track(write(i, w.size, w.midPause));
          }),
        );
        await sleep(signalAt);
        const inflightAtSignal = shutdown.inflightCount;
        shutdown.handleSignal('SIGTERM');
        const code = await shutdown.done;
        await Promise.all(launches);

        expect(code).toBe(EXIT_CODES.OK);
        expect(exits).toEqual([0]);
        // In-flight writes complete: every started write is whole under its final name, no temp left.
        expect(completed.length).toBe(started.length);
        for (const s of started) expect(readFileSync(join(dir, s.name)).equals(s.data)).toBe(true);
        expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        expect(started.length + refused).toBe(writes.length);
        // State persisted after the drain: it counts every write.
        const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { completed: number; started: number };
        expect(state).toEqual({ completed: started.length, started: started.length });
        // Logs flushed: every line is on disk, parses, and the last says shutdown completed.
        const lines = readLog(logFile);
        const last = lines[lines.length - 1]!;
        expect(last.message).toBe('shutdown completed');
        expect(last.exitCode).toBe(0);
        expect(lines.filter((l) => l.message === 'written')).toHaveLength(started.length);
        const startLine = lines.find((l) => l.message === 'shutdown started (SIGTERM)')!;
        expect(startLine.inflight).toBe(inflightAtSignal);
      }),
      { numRuns: 100 },
    );
  });

  it('a failing component is stopped and reported; the process keeps running', async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const exits: number[] = [];
    const shutdown = new Shutdown({ logger: log, exit: (c) => void exits.push(c) });
    let watcherStopped = 0;
    let storeStopped = 0;
    shutdown.register({ name: 'watcher', phase: 'intake', stop: () => void watcherStopped++ });
    shutdown.register({ name: 'store', phase: 'resources', stop: () => void storeStopped++ });
    const r = await shutdown.supervise('watcher', Promise.reject(Object.assign(new Error('inotify fd died'), { code: 'EBADF' })));
    expect(r).toBeUndefined();
    expect(watcherStopped).toBe(1);
    expect(exits).toEqual([]);
    expect(shutdown.stopping).toBe(false);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const err = recs.find((x) => x.level === 'error')!;
    expect(err.category).toBe('filesystem');
    expect((err.context as Record<string, unknown>).component).toBe('watcher');
    expect(recs.some((x) => x.level === 'warn' && String(x.message).includes('component watcher stopped'))).toBe(true);
    // Later shutdown: the failed component is not stopped twice, the others are; exit 1 (a runtime error happened).
    expect(await shutdown.shutdown('SIGTERM')).toBe(EXIT_CODES.RUNTIME);
    expect(watcherStopped).toBe(1);
    expect(storeStopped).toBe(1);
  });
});

describe('supervise', () => {
  it('a component that ends with an error because shutdown closed it is not a failure: exit 0', async () => {
    const exits: number[] = [];
    const shutdown = new Shutdown({ exit: (c) => void exits.push(c) });
    let rejectWatcher!: (e: Error) => void;
    const task = shutdown.supervise('watcher', new Promise((_, reject) => (rejectWatcher = reject)));
    shutdown.register({ name: 'watcher', phase: 'intake', stop: () => rejectWatcher(Object.assign(new Error('fd closed'), { code: 'EBADF' })) });
    expect(await shutdown.shutdown('SIGTERM')).toBe(0);
    await task;
    expect(shutdown.failedComponents).toEqual([]);
    expect(exits).toEqual([0]);
  });
});

describe('crash cleanup', () => {
  it('a crash runs every emergency hook once (even if a hook throws or another crash follows) and exits 70', async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
    const exits: number[] = [];
    const shutdown = new Shutdown({ logger: log, exit: (c) => void exits.push(c) });
    const ran: string[] = [];
    shutdown.register({ name: 'ring', phase: 'resources', emergency: () => void ran.push('ring') });
    shutdown.register({
      name: 'temp',
      phase: 'resources',
      emergency: () => {
        ran.push('temp');
        throw new Error('unlink failed');
      },
    });
    shutdown.register({ name: 'index', phase: 'resources', emergency: async () => void ran.push('index') });
    const first = shutdown.crash(new Error('boom'));
    void shutdown.crash(new Error('second boom'), 'unhandledRejection');
    expect(await first).toBe(EXIT_CODES.INTERNAL);
    expect(ran).toEqual(['ring', 'temp', 'index']);
    expect(exits).toEqual([70]);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.filter((r) => r.level === 'error' && String(r.message).includes('boom'))).toHaveLength(2);
    expect(recs[recs.length - 1]!.message).toBe('emergency cleanup done; exiting');
  });
});

// ------------------------------------------------------------------ Property 22

type HookKind = 'ok' | 'slow' | 'throw' | 'hang';
interface Scenario {
  hooks: Array<{ phase: ShutdownPhase; kind: HookKind; ms: number }>;
  failComponent: boolean;
  trigger: 'signal' | 'double-signal' | 'crash';
}

const hookArb = fc.record({
  phase: fc.constantFrom<ShutdownPhase>('intake', 'drain', 'state', 'resources'),
  kind: fc.constantFrom<HookKind>('ok', 'ok', 'slow', 'throw', 'hang'),
  ms: fc.integer({ min: 0, max: 3 }),
});
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({ hooks: fc.array(hookArb, { maxLength: 4 }), failComponent: fc.boolean(), trigger: fc.constantFrom('signal', 'signal', 'double-signal', 'crash') })
  .map((s) =>
    // A second signal must land while shutdown is still running: such scenarios get a hook that waits.
    s.trigger === 'double-signal' ? { ...s, hooks: [...s.hooks, { phase: 'state' as const, kind: 'hang' as const, ms: 0 }] } : s,
  );

/** The specification: which exit code a scenario must produce. */
function expectedExit(s: Scenario): number {
  if (s.trigger === 'crash') return EXIT_CODES.INTERNAL;
  if (s.trigger === 'double-signal') return EXIT_CODES.FORCED;
  if (s.hooks.some((h) => h.kind === 'hang')) return EXIT_CODES.FORCED;
  if (s.hooks.some((h) => h.kind === 'throw') || s.failComponent) return EXIT_CODES.RUNTIME;
  return EXIT_CODES.OK;
}
const isClean = (s: Scenario): boolean => s.trigger === 'signal' && !s.failComponent && s.hooks.every((h) => h.kind === 'ok' || h.kind === 'slow');

describe('exit codes', () => {
  it('Property 22: the exit code is 0 exactly when shutdown was clean (in-process model, 150 scenarios)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const lines: string[] = [];
        const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
        const exits: number[] = [];
        const hangs = s.hooks.some((h) => h.kind === 'hang');
        // Scenarios that cannot finish get a short timeout; the others a long one that is never reached.
        const shutdown = new Shutdown({ timeoutMs: hangs ? 40 : 10_000, emergencyTimeoutMs: 50, logger: log, exit: (c) => void exits.push(c) });
        s.hooks.forEach((h, i) =>
          shutdown.register({
            name: `c${i}`,
            phase: h.phase,
            stop: () => {
              if (h.kind === 'throw') throw new Error(`c${i} failed`);
              if (h.kind === 'hang') return new Promise<void>(() => undefined);
              return h.kind === 'slow' ? sleep(h.ms) : undefined;
            },
          }),
        );
        if (s.failComponent) await shutdown.componentFailed('watcher', Object.assign(new Error('fd died'), { code: 'EBADF' }));
        if (s.trigger === 'crash') void shutdown.crash(new Error('boom'), 'uncaughtException');
        else {
          shutdown.handleSignal('SIGTERM');
          if (s.trigger === 'double-signal') {
            await sleep(1);
            shutdown.handleSignal('SIGINT');
          }
        }
        const code = await shutdown.done;
        expect(exits).toEqual([code]); // exit called exactly once
        expect(code).toBe(expectedExit(s));
        expect(code === 0).toBe(isClean(s));
        const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        const last = recs[recs.length - 1]!;
        if (code === 0) expect(last.message).toBe('shutdown completed');
        if (code === EXIT_CODES.FORCED) expect(recs.some((r) => r.level === 'warn' && /forc/.test(String(r.message)))).toBe(true);
        if (code === EXIT_CODES.INTERNAL) expect(recs.some((r) => r.level === 'error' && r.category === 'unknown')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  /** Runs the scenario fixture; returns exit code, ms from first signal to exit, and the log. */
  async function runScenario(
    s: Scenario,
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: string | null; ms: number; log: Array<Record<string, unknown>>; tempLeft: boolean }> {
    const dir = await newDir();
    const logFile = join(dir, 'forge.log');
    const child = spawn(
      process.execPath,
      [
        join(FIXTURES, 'shutdown-scenario.mjs'),
        JSON.stringify({ ...s, timeoutMs, crash: s.trigger === 'crash' ? (s.failComponent ? 'rejection' : 'exception') : null }),
        logFile,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    child.once('exit', () => children.delete(child));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
      child.once('exit', (c) => reject(new Error(`child exited ${c} before READY: ${stderr}`)));
    });
    const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, sig) => r([c, sig])));
    const t0 = Date.now();
    if (s.trigger !== 'crash') {
      child.kill('SIGTERM');
      if (s.trigger === 'double-signal') {
        await sleep(150);
        child.kill('SIGINT');
      }
    }
    const [code, signal] = await exited;
    return { code, signal, ms: Date.now() - t0, log: readLog(logFile), tempLeft: existsSync(logFile + '.tmp-object') };
  }

  it('Property 22 (real signals): a sample of scenarios in child processes exits with the specified code', async () => {
    const sample: Scenario[] = [
      {
        hooks: [
          { phase: 'drain', kind: 'slow', ms: 50 },
          { phase: 'resources', kind: 'ok', ms: 0 },
        ],
        failComponent: false,
        trigger: 'signal',
      },
      { hooks: [], failComponent: false, trigger: 'signal' },
      { hooks: [{ phase: 'state', kind: 'throw', ms: 0 }], failComponent: false, trigger: 'signal' },
      { hooks: [], failComponent: true, trigger: 'signal' },
      { hooks: [{ phase: 'resources', kind: 'hang', ms: 0 }], failComponent: false, trigger: 'signal' },
      { hooks: [{ phase: 'state', kind: 'hang', ms: 0 }], failComponent: false, trigger: 'double-signal' },
      { hooks: [{ phase: 'intake', kind: 'ok', ms: 0 }], failComponent: false, trigger: 'crash' }, // uncaughtException
      { hooks: [], failComponent: true, trigger: 'crash' }, // unhandledRejection
    ];
    const timeoutMs = 1500;
    const results = [];
    // Two at a time: CI has two cores.
    for (let i = 0; i < sample.length; i += 2) results.push(...(await Promise.all(sample.slice(i, i + 2).map((s) => runScenario(s, timeoutMs)))));
    results.forEach((r, i) => {
      const s = sample[i]!;
      expect({ i, code: r.code, signal: r.signal }).toEqual({ i, code: expectedExit(s), signal: null });
      expect(r.code === 0).toBe(isClean(s));
      // Temp files are cleaned on every path: graceful stop, timeout/forced emergency, crash emergency.
      expect(r.tempLeft).toBe(false);
      const last = r.log[r.log.length - 1]!;
      if (r.code === 0) expect(last.message).toBe('shutdown completed');
      if (r.code === EXIT_CODES.INTERNAL) expect(last.message).toBe('emergency cleanup done; exiting');
      if (s.hooks.some((h) => h.kind === 'hang') && s.trigger === 'signal') {
        // Forced by the timeout: not before it, and promptly after it.
        expect(r.ms).toBeGreaterThanOrEqual(timeoutMs - 50);
        expect(r.log.some((l) => String(l.message).includes(`did not finish within ${timeoutMs} ms`))).toBe(true);
      }
      if (s.trigger === 'double-signal') {
        expect(r.ms).toBeLessThan(timeoutMs); // the second signal did not wait for the timeout
        expect(last.message).toBe('forced shutdown: second signal SIGINT');
      }
    });
  });
});
