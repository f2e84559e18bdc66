/** Browsing the history: `forge log` of the whole tree or a directory, `forge ls --at`, and how times print. */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../host/node/cli/main.js';
import { formatTime } from '../../host/node/term/time.js';
import { seedHistory, sink } from './seed.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-browse-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const HOUR = 3_600_000;

beforeAll(async () => {
  await seedHistory(root, [
    { path: 'a.txt', content: 'a1\n', timeMs: T0 },
    { path: 'src/x.ts', content: 'x1\n', timeMs: T0 + HOUR },
    { path: 'src/y.ts', content: 'y1\n', timeMs: T0 + 2 * HOUR },
    { path: 'a.txt', content: 'a2\n', timeMs: T0 + 3 * HOUR },
    { path: 'src/y.ts', content: null, timeMs: T0 + 4 * HOUR },
  ]);
}, 60_000);

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runCli([...args, '--root', root], { cwd: root, stdout: out as never, stderr: err as never });
  return { code, out: out.text(), err: err.text() };
}

describe('browsing', () => {
  it('forge log without a path lists the whole tree newest first; -n and --since cut it; --json is chronological', async () => {
    const all = await cli('log', '--utc');
    expect(all.code).toBe(0);
    const paths = all.out
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).at(-1));
    expect(paths).toEqual(['src/y.ts', 'a.txt', 'src/y.ts', 'src/x.ts', 'a.txt']);
    const two = await cli('log', '-n', '2', '--utc');
    expect(two.out.trim().split('\n').length).toBe(3);
    const since = await cli('log', '--since', new Date(T0 + 2 * HOUR).toISOString(), '--json');
    const rows = JSON.parse(since.out) as Array<{ path: string; timeMs: number; kind: string }>;
    expect(rows.map((r) => [r.path, r.kind])).toEqual([
      ['src/y.ts', 'created'],
      ['a.txt', 'modified'],
      ['src/y.ts', 'removed'],
    ]);
    const dir = await cli('log', 'src', '--json');
    expect((JSON.parse(dir.out) as Array<{ path: string }>).every((r) => r.path.startsWith('src/'))).toBe(true);
  });

  it('forge ls --at lists the files as they were, without removed ones', async () => {
    const then = await cli('ls', '--at', new Date(T0 + 2.5 * HOUR).toISOString(), '--json');
    expect((JSON.parse(then.out) as Array<{ path: string; hash: string }>).map((r) => r.path)).toEqual(['a.txt', 'src/x.ts', 'src/y.ts']);
    const now = await cli('ls', '--json');
    expect((JSON.parse(now.out) as Array<{ path: string }>).map((r) => r.path)).toEqual(['a.txt', 'src/x.ts']);
    const before = await cli('ls', '--at', new Date(T0 - HOUR).toISOString());
    expect(before.out).toMatch(/no files recorded/);
    const sub = await cli('ls', 'src', '--at', new Date(T0 + 2.5 * HOUR).toISOString(), '--json');
    expect((JSON.parse(sub.out) as Array<{ path: string }>).map((r) => r.path)).toEqual(['src/x.ts', 'src/y.ts']);
  });

  it('times print in local time with the offset, or in UTC with --utc', async () => {
    expect(formatTime(T0, true)).toBe('2026-01-10 12:00:00Z');
    const local = formatTime(T0);
    expect(local).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    // The printed local time, read back with its offset, is the same instant.
    expect(Date.parse(local.replace(' ', 'T'))).toBe(T0);
    const log = await cli('log', 'a.txt');
    expect(log.out).toContain(formatTime(T0));
    expect((await cli('log', 'a.txt', '--utc')).out).toContain('2026-01-10 12:00:00Z');
  });
});
