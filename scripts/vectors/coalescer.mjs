// Coalescer vectors (vectors/coalescer.json): sequences of push/drain/flush steps from the
// PRNG, with the output of every drain/flush computed by the independent reference model
// (coalescer-ref.mjs), not by the core.
import { xorshift32 } from '../../vectors/prng.mjs';
import { CoalescerModel } from './coalescer-ref.mjs';
import { witExport, witPost } from '../lib/native-harness.mjs';

export const name = 'coalescer';
export const description =
  'Event coalescer (interface events). A case: coalescer-new(windowMs), then `steps` in order: ' +
  '{op:"push", nowMs, changes} = coalescer-push; {op:"drain", nowMs} = coalescer-drain; {op:"flush"} = ' +
  'coalescer-flush. Expected: the list of changes every drain/flush returns, in order (`outputs`; a ' +
  'change is {path, kind} plus oldPath for renamed). Expected values from the reference model ' +
  'scripts/vectors/coalescer-ref.mjs.';

/** Who produced each expected field (recorded in the file). */
export const provenance = () => [
  {
    field: 'outputs',
    source: 'project-reference',
    tool: 'scripts/vectors/coalescer-ref.mjs (a plain JavaScript model of the coalescing rules, separate from the core)',
    note: "The coalescing rules are Forge's own; no independent tool implements them.",
  },
];

const KINDS = ['created', 'modified', 'removed', 'renamed', 'overflow'];
const PATHS = ['a', 'b', 'c', 'src/index.ts', 'src/ü.ts', 'f.tmp'];

function run(windowMs, steps) {
  const model = new CoalescerModel(windowMs);
  const outputs = [];
  for (const s of steps) {
    if (s.op === 'push') model.push(s.changes, s.nowMs);
    else outputs.push(s.op === 'drain' ? model.drain(s.nowMs) : model.flush());
  }
  return outputs;
}

function randomSteps(seed, n) {
  const next = xorshift32(seed);
  const steps = [];
  let t = 1000;
  for (let i = 0; i < n; i++) {
    t += next() % 60;
    const r = next() % 8;
    if (r < 5) {
      const changes = [];
      const m = 1 + (next() % 3);
      for (let j = 0; j < m; j++) {
        const kind = KINDS[next() % (next() % 10 === 0 ? 5 : 4)];
        const change = { path: kind === 'overflow' ? '' : PATHS[next() % PATHS.length], kind };
        if (kind === 'renamed' && next() % 6 !== 0) change.oldPath = PATHS[next() % PATHS.length];
        changes.push(change);
      }
      steps.push({ op: 'push', nowMs: t, changes });
    } else {
      steps.push(r < 7 ? { op: 'drain', nowMs: t } : { op: 'flush' });
    }
  }
  steps.push({ op: 'flush' });
  return steps;
}

const RULES = [
  [
    { path: 'a', kind: 'modified' },
    { path: 'a', kind: 'modified' },
    { path: 'a', kind: 'modified' },
  ],
  [
    { path: 'a', kind: 'created' },
    { path: 'a', kind: 'modified' },
  ],
  [
    { path: 'a', kind: 'created' },
    { path: 'a', kind: 'removed' },
  ],
  [
    { path: 'a', kind: 'removed' },
    { path: 'a', kind: 'created' },
  ],
  [{ path: 'b', kind: 'renamed', oldPath: 'a' }],
  [
    { path: 'b', kind: 'renamed', oldPath: 'a' },
    { path: 'c', kind: 'renamed', oldPath: 'b' },
  ],
  [
    { path: 'f.tmp', kind: 'created' },
    { path: 'f', kind: 'renamed', oldPath: 'f.tmp' },
  ],
  [
    { path: 'b', kind: 'renamed', oldPath: 'a' },
    { path: 'b', kind: 'removed' },
  ],
  [
    { path: '', kind: 'overflow' },
    { path: 'x', kind: 'modified' },
    { path: '', kind: 'overflow' },
  ],
];

export async function generate() {
  const cases = [];
  for (const changes of RULES) {
    const steps = [...changes.map((c, i) => ({ op: 'push', nowMs: i, changes: [c] })), { op: 'drain', nowMs: 50 }, { op: 'drain', nowMs: 1000 }];
    cases.push({ windowMs: 100, steps, outputs: run(100, steps) });
  }
  for (let s = 1; s <= 12; s++) {
    const windowMs = [0, 30, 100][s % 3];
    const steps = randomSteps(s, 40);
    cases.push({ windowMs, steps, outputs: run(windowMs, steps) });
  }
  return cases;
}

export const expected = (c) => c.outputs;

const norm = (list) => list.map((ch) => (ch.oldPath === undefined ? { path: ch.path, kind: ch.kind } : { path: ch.path, kind: ch.kind, oldPath: ch.oldPath }));

export function check(api, c) {
  const ev = api.events;
  const h = ev.coalescerNew(c.windowMs);
  const outputs = [];
  for (const s of c.steps) {
    if (s.op === 'push') ev.coalescerPush(h, s.changes, BigInt(s.nowMs));
    else outputs.push(norm(s.op === 'drain' ? ev.coalescerDrain(h, BigInt(s.nowMs)) : ev.coalescerFlush(h)));
  }
  ev.coalescerFree(h);
  return outputs;
}

// Native: list<change> records are 24 bytes (path ptr/len, kind u8 @8, option tag @12, old ptr/len @16/20).
async function lowerChanges(core, changes) {
  const recs = Buffer.alloc(changes.length * 24);
  for (const [i, ch] of changes.entries()) {
    const [p, pl] = await core.lowerBytes(new TextEncoder().encode(ch.path));
    recs.writeUInt32LE(p, i * 24);
    recs.writeUInt32LE(pl, i * 24 + 4);
    recs[i * 24 + 8] = KINDS.indexOf(ch.kind);
    if (ch.oldPath !== undefined) {
      const [o, ol] = await core.lowerBytes(new TextEncoder().encode(ch.oldPath));
      recs[i * 24 + 12] = 1;
      recs.writeUInt32LE(o, i * 24 + 16);
      recs.writeUInt32LE(ol, i * 24 + 20);
    }
  }
  const ptr = await core.alloc(recs.length, 4);
  await core.write(ptr, recs);
  return [ptr, changes.length];
}

async function liftChanges(core, ret) {
  const recs = Buffer.from(await core.liftList(ret, 24));
  const out = [];
  const text = async (p, l) => new TextDecoder().decode(await core.read(p, l));
  for (let i = 0; i < recs.length; i += 24) {
    const ch = { path: await text(recs.readUInt32LE(i), recs.readUInt32LE(i + 4)), kind: KINDS[recs[i + 8]] };
    if (recs[i + 12]) ch.oldPath = await text(recs.readUInt32LE(i + 16), recs.readUInt32LE(i + 20));
    out.push(ch);
  }
  return out;
}

export async function checkNative(core, c) {
  const h = Number(await core.call(witExport('events', 'coalescer-new'), c.windowMs));
  const outputs = [];
  for (const s of c.steps) {
    if (s.op === 'push') {
      await core.call(witExport('events', 'coalescer-push'), h, ...(await lowerChanges(core, s.changes)), BigInt(s.nowMs));
    } else {
      const fn = s.op === 'drain' ? 'coalescer-drain' : 'coalescer-flush';
      const ret = Number(s.op === 'drain' ? await core.call(witExport('events', fn), h, BigInt(s.nowMs)) : await core.call(witExport('events', fn), h));
      outputs.push(await liftChanges(core, ret));
      await core.call(witPost('events', fn), ret);
    }
  }
  await core.call(witExport('events', 'coalescer-free'), h);
  return outputs;
}
