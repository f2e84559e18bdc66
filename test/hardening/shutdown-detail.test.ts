/**
 * The shutdown coordinator in process, in detail: phase order, handle release in parallel, drain of
 * tracked work, failures, timeouts, second signals, crashes, logger handling, install/uninstall.
 * The exit function is a recorder; everything else is real (timers, promises, process listeners).
 */
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { Shutdown, type ShutdownLogger } from '../../host/node/runtime/shutdown.js';

type Line = { level: string; obj: Record<string, unknown>; msg: string | undefined };

function rig(opts: { timeoutMs?: number; emergencyTimeoutMs?: number; handleReleaseMs?: number; closeLogger?: boolean; withLogError?: boolean } = {}) {
  const lines: Line[] = [];
  const calls: string[] = [];
  const exits: number[] = [];
  const push =
    (level: string) =>
    (obj: object, msg?: string): void =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: ShutdownLogger = {
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    flush: () => void calls.push('flush'),
    close: () => void calls.push('close'),
    ...(opts.withLogError
      ? { logError: (err: unknown, ctx?: Record<string, unknown>) => void lines.push({ level: 'logError', obj: { err, ...ctx }, msg: undefined }) }
      : {}),
  };
  const { withLogError: _w, ...rest } = opts;
  const s = new Shutdown({ ...rest, logger, exit: (c) => void exits.push(c) });
  return { s, lines, calls, exits };
}

describe('Shutdown in process', () => {
  it('defaults, and a bad timeout is a configuration error', () => {
    const s = new Shutdown({ exit: () => undefined });
    expect([s.timeoutMs, s.emergencyTimeoutMs, s.handleReleaseMs]).toEqual([30_000, 2000, 1000]);
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => new Shutdown({ timeoutMs: bad }), String(bad)).toThrow(ForgeError);
      expect(() => new Shutdown({ timeoutMs: bad })).toThrow(`shutdown timeout must be a positive number of ms, got ${bad}`);
    }
  });

  it('phases run in order (intake, drain, state, resources), components in registration order, each stop given the reason', async () => {
    const { s, lines, calls, exits } = rig();
    const order: string[] = [];
    const add = (name: string, phase: 'intake' | 'drain' | 'state' | 'resources') => s.register({ name, phase, stop: (r) => void order.push(`${name}:${r}`) });
    add('r1', 'resources');
    add('s1', 'state');
    add('d1', 'drain');
    add('i1', 'intake');
    add('i2', 'intake');
    add('r2', 'resources');
    const gone = add('gone', 'intake');
    gone();
    gone(); // twice is harmless
    expect(() => s.register({ name: 'x', phase: 'later' as 'intake' })).toThrow('unknown shutdown phase "later" (use intake, drain, state, resources)');
    expect(s.stopping).toBe(false);
    expect(s.signal.aborted).toBe(false);
    const code = await s.shutdown('SIGTERM');
    expect(code).toBe(0);
    expect(exits).toEqual([0]);
    expect(await s.done).toBe(0);
    expect(s.stopping).toBe(true);
    expect(s.signal.aborted).toBe(true);
    expect((s.signal.reason as ForgeError).message).toBe('shutting down (SIGTERM)');
    expect(order).toEqual(['i1:SIGTERM', 'i2:SIGTERM', 'd1:SIGTERM', 's1:SIGTERM', 'r1:SIGTERM', 'r2:SIGTERM']);
    const last = lines.at(-1)!;
    expect(last.msg).toBe('shutdown completed');
    expect(last.obj).toMatchObject({ reason: 'SIGTERM', exitCode: 0, clean: true, failedComponents: [] });
    expect((last.obj['phases'] as Array<{ phase: string; failed: string[] }>).map((p) => [p.phase, p.failed])).toEqual([
      ['intake', []],
      ['drain', []],
      ['state', []],
      ['resources', []],
    ]);
    expect(typeof last.obj['handlesReleasedMs']).toBe('number');
    expect(lines[0]!.msg).toBe('shutdown started (SIGTERM)');
    expect(calls).toEqual(['flush', 'close']);
    // A second call returns the same outcome without running anything again.
    expect(await s.shutdown('again')).toBe(0);
    expect(order).toHaveLength(6);
    expect(exits).toEqual([0]);
  });

  it('drain waits for tracked work, including work tracked while draining; rejected work settles it too', async () => {
    const { s, exits } = rig();
    const events: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r)).then(() => void events.push('slow done'));
    s.track(slow);
    s.track(Promise.reject(new Error('lost')).catch(() => undefined));
    const failing = s.track(Promise.reject(new Error('tracked failure')));
    failing.catch(() => undefined);
    expect(s.inflightCount).toBe(3);
    s.register({
      name: 'late',
      phase: 'intake',
      stop: () => {
        // Work that starts as intake closes is drained too.
        s.track(new Promise<void>((r) => setTimeout(r, 20)).then(() => void events.push('late done')));
        setTimeout(release, 10);
      },
    });
    s.register({ name: 'after', phase: 'state', stop: () => void events.push('state') });
    await s.shutdown('test');
    expect(events).toEqual(['slow done', 'late done', 'state']);
    expect(s.inflightCount).toBe(0);
    expect(exits).toEqual([0]);
  });

  it('releaseHandles hooks start at once with the budget, alongside intake; resources waits for them; late release is warned', async () => {
    const { s, lines, exits } = rig({ handleReleaseMs: 30 });
    const events: string[] = [];
    let intakeDone!: () => void;
    s.register({ name: 'watcher', phase: 'intake', stop: () => new Promise<void>((r) => (intakeDone = () => (events.push('intake stopped'), r()))) });
    s.register({
      name: 'handles',
      phase: 'resources',
      releaseHandles: async (ms) => {
        events.push(`release ${ms}`);
        await new Promise((r) => setTimeout(r, 60)); // over the 30 ms budget
        events.push('released');
      },
    });
    s.register({ name: 'index', phase: 'resources', stop: () => void events.push('index closed') });
    const p = s.shutdown('test');
    await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(['release 30']); // started before intake finished
    intakeDone();
    await p;
    expect(events).toEqual(['release 30', 'intake stopped', 'released', 'index closed']);
    const warn = lines.find((l) => l.level === 'warn')!;
    expect(warn.obj).toMatchObject({ budgetMs: 30 });
    expect(warn.obj['handlesReleasedMs']).toBeGreaterThan(30);
    expect(exits).toEqual([0]);
  });

  it('a stop or release that throws: the rest still run, exit 1, named in the report and logged', async () => {
    const { s, lines, exits } = rig({ withLogError: true });
    const ran: string[] = [];
    s.register({
      name: 'bad',
      phase: 'intake',
      stop: () => {
        throw new Error('stop broke');
      },
    });
    s.register({ name: 'good', phase: 'intake', stop: () => void ran.push('good') });
    s.register({
      name: 'rel',
      phase: 'resources',
      releaseHandles: () => {
        throw new Error('release broke');
      },
    });
    expect(await s.shutdown('test')).toBe(1);
    expect(exits).toEqual([1]);
    expect(ran).toEqual(['good']);
    expect(s.failedComponents.sort()).toEqual(['bad', 'rel']);
    const last = lines.at(-1)!;
    expect(last.msg).toBe('shutdown completed with errors');
    expect(last.obj).toMatchObject({ clean: false, exitCode: 1 });
    expect((last.obj['phases'] as Array<{ phase: string; failed: string[] }>)[0]).toMatchObject({ phase: 'intake', failed: ['bad'] });
    const logged = lines.filter((l) => l.level === 'logError').map((l) => [l.obj['component'], l.obj['operation']]);
    expect(logged).toEqual(
      expect.arrayContaining([
        ['bad', 'stop (intake)'],
        ['rel', 'release handles'],
      ]),
    );
  });

  it('shutdown with an error exits 1 and logs it (through error() when the logger has no logError)', async () => {
    const { s, lines, exits } = rig();
    expect(await s.shutdown('fatal', { error: Object.assign(new Error('disk gone'), { code: 'EIO' }) })).toBe(1);
    expect(exits).toEqual([1]);
    const e = lines.find((l) => l.level === 'error')!;
    expect(e.msg).toBe('disk gone');
    expect(e.obj).toMatchObject({ category: 'filesystem', context: expect.objectContaining({ operation: 'shutdown', code: 'EIO' }) });
    expect((e.obj['suggestions'] as string[]).length).toBeGreaterThan(0);
  });

  it('over the timeout: warning, emergency hooks, exit 2, and the stuck phase goes no further', async () => {
    const { s, lines, exits } = rig({ timeoutMs: 40 });
    const ran: string[] = [];
    s.register({ name: 'stuck', phase: 'drain', stop: () => new Promise<void>((r) => setTimeout(r, 120)), emergency: () => void ran.push('stuck emergency') });
    s.register({ name: 'after', phase: 'drain', stop: () => void ran.push('after stop') });
    s.register({ name: 'idx', phase: 'resources', emergency: () => void ran.push('idx emergency') });
    const code = await s.shutdown('test');
    expect(code).toBe(2);
    expect(exits).toEqual([2]);
    await new Promise((r) => setTimeout(r, 150));
    expect(ran).toEqual(['stuck emergency', 'idx emergency']);
    expect(lines.find((l) => l.level === 'warn')!.msg).toBe('shutdown did not finish within 40 ms; forcing exit');
  });

  it('signals: the first starts a graceful shutdown, a second forces exit 2 at once with emergency hooks', async () => {
    const { s, lines, exits } = rig();
    const ran: string[] = [];
    s.register({ name: 'slow', phase: 'intake', stop: () => new Promise<void>((r) => setTimeout(r, 50)), emergency: () => void ran.push('emergency') });
    s.register({
      name: 'broken',
      phase: 'intake',
      emergency: () => {
        throw new Error('sync throw');
      },
    });
    s.register({ name: 'rejecting', phase: 'intake', emergency: () => Promise.reject(new Error('async')) });
    s.handleSignal('SIGTERM');
    expect(s.stopping).toBe(true);
    s.handleSignal('SIGINT');
    expect(exits).toEqual([2]);
    expect(ran).toEqual(['emergency']);
    expect(lines.find((l) => l.msg === 'forced shutdown: second signal SIGINT')!.obj).toMatchObject({ exitCode: 2 });
    s.forceExit('again');
    expect(exits).toEqual([2]);
    expect(await s.done).toBe(2);
  });

  it('a crash: emergency hooks once (bounded in time), exit 70; a further crash is logged, not cleaned twice', async () => {
    const { s, lines, exits } = rig({ emergencyTimeoutMs: 30, withLogError: true });
    const ran: string[] = [];
    s.register({ name: 'ring', phase: 'resources', emergency: () => void ran.push('ring') });
    s.register({ name: 'hang', phase: 'resources', emergency: () => new Promise<void>(() => undefined) });
    const first = s.crash(new Error('boom'), 'uncaughtException');
    void s.crash(new Error('again'), 'unhandledRejection');
    expect(await first).toBe(70);
    expect(exits).toEqual([70]);
    expect(ran).toEqual(['ring']);
    expect(s.signal.aborted).toBe(true);
    const errs = lines.filter((l) => l.level === 'logError').map((l) => [(l.obj['err'] as Error).message, l.obj['fatal'], l.obj['duringEmergencyCleanup']]);
    expect(errs).toEqual([
      ['boom', true, undefined],
      ['again', true, true],
    ]);
    expect(lines.at(-1)!.msg).toBe('emergency cleanup done; exiting');
    expect(await s.crash(new Error('after exit'))).toBe(70);
    expect(exits).toEqual([70]);
  });

  it('componentFailed / supervise: the component alone is stopped and dropped; exit 1 at the end; during shutdown a rejection is not a failure', async () => {
    const { s, lines, exits } = rig({ withLogError: true });
    const stops: string[] = [];
    s.register({ name: 'watcher', phase: 'intake', stop: (r) => void stops.push(`watcher:${r}`) });
    s.register({ name: 'store', phase: 'resources', stop: () => void stops.push('store') });
    expect(await s.supervise('ok', Promise.resolve(5))).toBe(5);
    await s.supervise('watcher', Promise.reject(Object.assign(new Error('fd died'), { code: 'EBADF' })));
    expect(stops).toEqual(['watcher:component failure: fd died']);
    expect(s.failedComponents).toEqual(['watcher']);
    expect(lines.find((l) => l.level === 'warn')!.msg).toBe('component watcher stopped after a failure; Forge keeps running');
    expect(exits).toEqual([]);
    const code = s.shutdown('test');
    await s.supervise('late', Promise.reject(new Error('closed')));
    expect(await code).toBe(1);
    expect(stops).toEqual(['watcher:component failure: fd died', 'store']); // watcher not stopped twice
    expect(s.failedComponents).toEqual(['watcher']);
    expect(lines.find((l) => l.msg === 'component late ended during shutdown')!.obj).toMatchObject({ reason: 'closed' });
  });

  it('closeLogger false keeps the logger open; a logger that throws does not block the exit', async () => {
    const a = rig({ closeLogger: false });
    await a.s.shutdown('x');
    expect(a.calls).toEqual(['flush']);
    const exits: number[] = [];
    const s = new Shutdown({
      exit: (c) => void exits.push(c),
      logger: {
        info: () => {
          throw new Error('sink gone');
        },
        warn: () => undefined,
        error: () => {
          throw new Error('sink gone');
        },
      },
    });
    s.register({
      name: 'x',
      phase: 'intake',
      stop: () => {
        throw new Error('stop');
      },
    });
    expect(await s.shutdown('x')).toBe(1); // no line can be written, the stop failed: still exit 1
    const s2 = new Shutdown({
      exit: (c) => void exits.push(c),
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: () => {
          throw new Error('sink gone');
        },
        close: () => {
          throw new Error('close failed');
        },
      },
    });
    s2.register({
      name: 'x',
      phase: 'intake',
      stop: () => {
        throw new Error('stop');
      },
    });
    expect(await s2.shutdown('x')).toBe(1); // a failing error log or close never stops the exit either
    expect(exits).toEqual([1, 1]);
  });

  it('install adds one listener per signal and crash event (once), uninstall removes them', () => {
    const count = (): number[] => ['SIGUSR2', 'uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
    const before = count();
    const s = new Shutdown({ signals: ['SIGUSR2'], exit: () => undefined });
    expect(s.install()).toBe(s);
    s.install();
    expect(count()).toEqual(before.map((n) => n + 1));
    s.uninstall();
    s.uninstall();
    expect(count()).toEqual(before);
  });
});
