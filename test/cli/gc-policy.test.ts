/**
 * `forge gc` never erases the last content of a file by policy: after any gc with any options
 * (run in-process through the real command, real SQLite, real objects), every file that has a
 * content version can still be restored to its newest content, unless --prune-deleted named it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../host/node/cli/main.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { Index } from '../../host/node/index-db/index.js';
import { seedHistory, sink, type SeedEvent } from './seed.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-gc-policy-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const DAY = 86_400_000;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const event = fc.record({
  file: fc.constantFrom('a.txt', 'b.txt', 'dir/c.txt', 'dir/sub/d.txt'),
  content: fc.option(fc.constantFrom('one\n', 'two\n', 'three\n', 'four\n', 'five\n'), { nil: null, freq: 4 }),
  ageDays: fc.integer({ min: 0, max: 30 }),
});
const options = fc.record({
  keep: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  keepDays: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  pruneDeleted: fc.boolean(),
  deletedOlderThan: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  dryRun: fc.boolean(),
});

let run = 0;
let objectsRemoved = 0;

describe('gc policy', () => {
  it('after any gc, every file with content can be restored to its newest content unless --prune-deleted named it (fast-check, 100 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 14 }), options, async (raw, o) => {
        const root = path.join(base, `r${run++}`);
        fs.mkdirSync(root);
        // Times increase with the sequence (older events first), from up to 30 days ago.
        const now = Date.now();
        const sorted = [...raw].sort((x, y) => y.ageDays - x.ageDays);
        const events: SeedEvent[] = sorted.map((e, i) => ({ path: e.file, content: e.content, timeMs: now - e.ageDays * DAY - (sorted.length - i) * 1000 }));
        await seedHistory(root, events);
        // Expected newest content per file, and whether it is deleted (and since when) — from the events, not the code.
        const newest = new Map<string, string>();
        const removedAt = new Map<string, number>();
        for (const e of events) {
          if (e.content === null) {
            if (newest.has(e.path)) removedAt.set(e.path, e.timeMs);
          } else {
            newest.set(e.path, e.content as string);
            removedAt.delete(e.path);
          }
        }
        const args = ['gc', '--root', root];
        if (o.keep !== undefined) args.push('--keep', String(o.keep));
        if (o.keepDays !== undefined) args.push('--keep-days', String(o.keepDays));
        if (o.pruneDeleted) args.push('--prune-deleted');
        if (o.pruneDeleted && o.deletedOlderThan !== undefined) args.push('--deleted-older-than', String(o.deletedOlderThan));
        if (o.dryRun) args.push('--dry-run');
        const out = sink();
        const err = sink();
        const code = await runCli(args, { cwd: root, stdout: out as never, stderr: err as never });
        expect(err.text()).toBe('');
        expect(code).toBe(0);
        expect(out.text()).not.toMatch(/\?|undefined|NaN/);
        const m = /(?:removed|would remove) (\d+) objects/.exec(out.text());
        expect(m).not.toBeNull();
        if (!o.dryRun) objectsRemoved += Number(m![1]);
        const store = await BlobStore.open(path.join(root, '.forge'), { workers: 0, io: false });
        const index = await Index.open(path.join(root, '.forge', 'index.db'));
        try {
          for (const [file, content] of newest) {
            const removed = removedAt.get(file);
            const named = o.pruneDeleted && removed !== undefined && removed <= now - (o.deletedOlderThan ?? 0) * DAY;
            const versions = await index.versions(file);
            const last = [...versions].reverse().find((v) => v.hash !== null);
            if (named && !o.dryRun) {
              expect(versions).toEqual([]);
              continue;
            }
            expect(last?.hash).toBe(sha(content));
            expect(Buffer.from(await store.get(last!.hash!)).toString()).toBe(content);
          }
        } finally {
          await index.close();
          await store.close();
        }
      }),
      { numRuns: 100 },
    );
    // The property is not vacuous: some of those runs really removed objects.
    expect(objectsRemoved).toBeGreaterThan(0);
  });

  it('the help example runs, and --dry-run with a policy lists what would go and changes nothing', async () => {
    const root = path.join(base, 'example');
    fs.mkdirSync(root);
    const now = Date.now();
    await seedHistory(root, [
      { path: 'x.txt', content: 'v1\n', timeMs: now - 20 * DAY },
      { path: 'x.txt', content: 'v2\n', timeMs: now - 10 * DAY },
      { path: 'x.txt', content: 'v3\n', timeMs: now - 9 * DAY },
      { path: 'gone.txt', content: 'only copy\n', timeMs: now - 9 * DAY },
      { path: 'gone.txt', content: null, timeMs: now - 8 * DAY },
    ]);
    const out = sink();
    const code = await runCli(['gc', '--keep', '1', '--keep-days', '7', '--dry-run', '--root', root], {
      cwd: root,
      stdout: out as never,
      stderr: sink() as never,
    });
    expect(code).toBe(0);
    expect(out.text()).toMatch(/would remove x\.txt version 1 /);
    expect(out.text()).toMatch(/would remove x\.txt version 2 /);
    expect(out.text()).not.toMatch(/would remove gone\.txt/); // its only content stays
    expect(out.text()).toMatch(/would prune 2 versions/);
    const index = await Index.open(path.join(root, '.forge', 'index.db'));
    expect((await index.versions('x.txt')).length).toBe(3); // dry run changed nothing
    await index.close();
    // The real run: --keep 1 removes old content versions but never gone.txt's last content.
    const real = sink();
    expect(await runCli(['gc', '--keep', '1', '--root', root], { cwd: root, stdout: real as never, stderr: sink() as never })).toBe(0);
    const restored = sink();
    expect(
      await runCli(['restore', 'gone.txt', '--to', path.join(base, 'gone-restored.txt'), '--root', root], {
        cwd: root,
        stdout: restored as never,
        stderr: sink() as never,
      }),
    ).toBe(0);
    expect(fs.readFileSync(path.join(base, 'gone-restored.txt'), 'utf8')).toBe('only copy\n');
    // Only --prune-deleted takes it.
    expect(
      await runCli(['gc', '--prune-deleted', '--deleted-older-than', '7', '--root', root], { cwd: root, stdout: sink() as never, stderr: sink() as never }),
    ).toBe(0);
    const idx = await Index.open(path.join(root, '.forge', 'index.db'));
    expect(await idx.versions('gone.txt')).toEqual([]);
    await idx.close();
  });

  it('--deleted-older-than without --prune-deleted is a usage error', async () => {
    const err = sink();
    expect(await runCli(['gc', '--deleted-older-than', '3', '--root', base], { cwd: base, stdout: sink() as never, stderr: err as never })).toBe(64);
    expect(err.text()).toMatch(/--deleted-older-than goes with --prune-deleted/);
  });
});
