// The core's event coalescer: the merge rules as unit tests, design Property 6 as a property
// test, and a model-based property test against an independent JS model
// (scripts/vectors/coalescer-ref.mjs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../host/node/base/platform-io.js';
import { loadCore } from '../../host/node/core/loader.js';
import { Coalescer } from '../../host/node/core/events.js';
import { ForgeError } from '../../host/node/base/errors.js';
// @ts-expect-error: plain-JS reference model (scripts/), no type declarations
import { CoalescerModel } from '../../scripts/vectors/coalescer-ref.mjs';

interface Model {
  push(changes: Change[], t: number): void;
  drain(now: number): Change[];
  flush(): Change[];
}
const newModel = (windowMs: number): Model => new (CoalescerModel as new (w: number) => Model)(windowMs);

const core = loadCore();
const W = 100;

/** Pushes `changes` one per ms from t=0 and returns what one drain after the window yields. */
function merged(changes: Change[]): Change[] {
  using c = new Coalescer(W, core);
  changes.forEach((ch, i) => c.push([ch], i));
  expect(c.drain(changes.length - 1)).toEqual([]); // nothing closes early
  return c.drain(10_000);
}
const ch = (kind: Change['kind'], path: string, oldPath?: string): Change => (oldPath === undefined ? { kind, path } : { kind, path, oldPath });

describe('coalescer merge rules (one path, one window)', () => {
  it('N x modified -> one modified', () => {
    expect(merged([ch('modified', 'a'), ch('modified', 'a'), ch('modified', 'a')])).toEqual([ch('modified', 'a')]);
  });
  it('created + modified -> created', () => {
    expect(merged([ch('created', 'a'), ch('modified', 'a'), ch('modified', 'a')])).toEqual([ch('created', 'a')]);
  });
  it('created + removed -> nothing', () => {
    expect(merged([ch('created', 'a'), ch('modified', 'a'), ch('removed', 'a')])).toEqual([]);
  });
  it('removed + created -> modified', () => {
    expect(merged([ch('removed', 'a'), ch('created', 'a')])).toEqual([ch('modified', 'a')]);
  });
  it('modified + removed -> removed', () => {
    expect(merged([ch('modified', 'a'), ch('removed', 'a')])).toEqual([ch('removed', 'a')]);
  });
  it('a rename pair stays a pair, also when the target is then modified', () => {
    expect(merged([ch('renamed', 'b', 'a')])).toEqual([ch('renamed', 'b', 'a')]);
    expect(merged([ch('renamed', 'b', 'a'), ch('modified', 'b')])).toEqual([ch('renamed', 'b', 'a')]);
  });
  it('a modified source folds into the pair', () => {
    expect(merged([ch('modified', 'a'), ch('renamed', 'b', 'a')])).toEqual([ch('renamed', 'b', 'a')]);
  });
  it('rename chains collapse: a->b->c is renamed c from a', () => {
    expect(merged([ch('renamed', 'b', 'a'), ch('renamed', 'c', 'b')])).toEqual([ch('renamed', 'c', 'a')]);
  });
  it('a chain through a path seen existing reports that path removed', () => {
    expect(merged([ch('modified', 'b'), ch('renamed', 'b', 'a'), ch('renamed', 'c', 'b')])).toEqual([ch('removed', 'b'), ch('renamed', 'c', 'a')]);
  });
  it('moving back where it started is a modification: a->b->a', () => {
    expect(merged([ch('renamed', 'b', 'a'), ch('renamed', 'a', 'b')])).toEqual([ch('modified', 'a')]);
  });
  it('renaming a path created in the window: no pair, the target has new content (atomic save)', () => {
    expect(merged([ch('created', 'f.tmp'), ch('modified', 'f.tmp'), ch('renamed', 'f', 'f.tmp')])).toEqual([ch('modified', 'f')]);
  });
  it('created then renamed onto a path created in the window', () => {
    expect(merged([ch('created', 'a'), ch('created', 'b'), ch('renamed', 'b', 'a')])).toEqual([ch('created', 'b')]);
  });
  it('removing the target of a pair reports both paths removed', () => {
    expect(merged([ch('renamed', 'b', 'a'), ch('removed', 'b')])).toEqual([ch('removed', 'b'), ch('removed', 'a')]);
  });
  it('a second rename onto the target breaks the first pair: its source is reported removed', () => {
    expect(merged([ch('renamed', 'b', 'a'), ch('renamed', 'b', 'c')])).toEqual([ch('renamed', 'b', 'c'), ch('removed', 'a')]);
  });
  it('re-creating the source of a pair: the pair stays, the source is created after it', () => {
    expect(merged([ch('renamed', 'b', 'a'), ch('created', 'a')])).toEqual([ch('renamed', 'b', 'a'), ch('created', 'a')]);
  });
  it('a rename without old path (moved in from outside) is a creation', () => {
    expect(merged([{ kind: 'renamed', path: 'x' }])).toEqual([ch('created', 'x')]);
  });
  it('overflow passes through, unmerged, in order', () => {
    expect(merged([ch('modified', 'a'), ch('overflow', ''), ch('overflow', ''), ch('modified', 'a')])).toEqual([
      ch('modified', 'a'),
      ch('overflow', ''),
      ch('overflow', ''),
    ]);
  });
});

describe('coalescer windows and order', () => {
  it('a change is held until its window closes, then a later change opens a new window', () => {
    using c = new Coalescer(100, core);
    c.push([ch('modified', 'a')], 1000);
    expect(c.drain(1050)).toEqual([]);
    c.push([ch('modified', 'a')], 1080);
    expect(c.drain(1099)).toEqual([]);
    expect(c.drain(1100)).toEqual([ch('modified', 'a')]);
    expect(c.drain(5000)).toEqual([]);
    c.push([ch('removed', 'a')], 5000);
    expect(c.drain(5100)).toEqual([ch('removed', 'a')]);
  });

  it('output is in first-seen order, and each path has its own window', () => {
    using c = new Coalescer(100, core);
    c.push([ch('modified', 'b'), ch('created', 'a')], 0);
    c.push([ch('modified', 'c'), ch('modified', 'b')], 50);
    expect(c.drain(100)).toEqual([ch('modified', 'b'), ch('created', 'a')]);
    expect(c.drain(150)).toEqual([ch('modified', 'c')]);
  });

  it('flush returns everything pending; a zero window passes changes on at the next drain', () => {
    using c = new Coalescer(0, core);
    c.push([ch('created', 'x'), ch('modified', 'x'), ch('created', 'é/ü 文件')], 7);
    expect(c.drain(7)).toEqual([ch('created', 'x'), ch('created', 'é/ü 文件')]);
    using d = new Coalescer(1000, core);
    d.push([ch('modified', 'y')], 0);
    expect(d.flush()).toEqual([ch('modified', 'y')]);
    expect(d.flush()).toEqual([]);
  });

  it('close() is idempotent; use after close is a validation ForgeError; bad input is rejected', () => {
    const c = new Coalescer(10, core);
    c.close();
    c.close();
    expect(() => c.push([ch('modified', 'a')], 0)).toThrow(ForgeError);
    expect(() => c.drain(0)).toThrow(ForgeError);
    using d = new Coalescer(10, core);
    expect(() => d.push([{ path: 'a', kind: 'touched' } as unknown as Change], 0)).toThrow(ForgeError);
    expect(() => d.push([ch('modified', 'a')], -1)).toThrow(ForgeError);
    expect(() => new Coalescer(-5, core)).toThrow(ForgeError);
  });

  it('many paths and many coalescers do not leak core memory', () => {
    const before = core.memory.buffer.byteLength;
    for (let round = 0; round < 30; round++) {
      using c = new Coalescer(10, core);
      const changes: Change[] = [];
      for (let i = 0; i < 2000; i++) changes.push(ch(i % 3 === 0 ? 'renamed' : 'modified', `dir/${i % 500}/file-${i}.ts`, `old/${i}`));
      c.push(changes, round);
      expect(c.drain(round + 10).length).toBeGreaterThan(0);
      c.push(changes.slice(0, 100), round + 20);
    }
    expect(core.memory.buffer.byteLength - before).toBeLessThanOrEqual(2 << 20);
  });
});

const kindArb = fc.constantFrom<Change['kind']>('created', 'modified', 'removed', 'renamed', 'overflow');
const pathArb = fc.constantFrom('a', 'b', 'c', 'dir/d', 'é');

describe('coalescer properties', () => {
  it('Property 6: for any sequence of N rapid changes to the same file within the debounce window, at most 1 event for that file', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.tuple(fc.constantFrom<Change['kind']>('created', 'modified', 'removed', 'renamed'), fc.constantFrom('x', 'y', 'z'), fc.nat()), {
          minLength: 1,
          maxLength: 40,
        }),
        (windowMs, seq) => {
          using c = new Coalescer(windowMs, core);
          const t0 = 1_000_000;
          for (const [kind, other, dt] of seq) {
            const change = kind === 'renamed' ? ch('renamed', 'file', other) : ch(kind, 'file');
            c.push([change], t0 + (dt % windowMs)); // all within the window of the first change
          }
          const events = [...c.drain(t0 + windowMs - 1), ...c.drain(t0 + windowMs), ...c.flush()];
          expect(events.filter((e) => e.path === 'file').length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('each drained batch has at most one change per path, whatever the sequence (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(kindArb, pathArb, fc.option(pathArb, { nil: undefined }), fc.integer({ min: 0, max: 60 }), fc.boolean()), { maxLength: 60 }),
        (steps) => {
          using c = new Coalescer(50, core);
          let t = 0;
          for (const [kind, path, old, dt, drain] of steps) {
            t += dt;
            c.push([kind === 'overflow' ? ch('overflow', '') : ch(kind, path, kind === 'renamed' ? old : undefined)], t);
            if (drain) {
              const paths = c
                .drain(t)
                .filter((e) => e.kind !== 'overflow')
                .map((e) => e.path);
              expect(new Set(paths).size).toBe(paths.length);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('agrees with the independent reference model on random push/drain/flush sequences (fast-check)', () => {
    const cmdArb = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          op: fc.constant('push' as const),
          dt: fc.integer({ min: 0, max: 40 }),
          changes: fc.array(fc.tuple(kindArb, pathArb, fc.option(pathArb, { nil: undefined })), { minLength: 1, maxLength: 5 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const), dt: fc.integer({ min: 0, max: 120 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const), dt: fc.constant(0) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.array(cmdArb, { maxLength: 40 }), (windowMs, cmds) => {
        using c = new Coalescer(windowMs, core);
        const m = newModel(windowMs);
        let t = 0;
        for (const cmd of cmds) {
          t += cmd.dt;
          if (cmd.op === 'push') {
            const changes = cmd.changes.map(([k, p, o]) => (k === 'overflow' ? ch('overflow', p) : ch(k, p, k === 'renamed' ? o : undefined)));
            c.push(changes, t);
            m.push(changes, t);
          } else if (cmd.op === 'drain') {
            expect(c.drain(t)).toEqual(m.drain(t));
          } else {
            expect(c.flush()).toEqual(m.flush());
          }
        }
        expect(c.flush()).toEqual(m.flush());
      }),
      { numRuns: 300 },
    );
  });
});
