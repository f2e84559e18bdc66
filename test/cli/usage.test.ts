/**
 * The CLI's contract as a user meets it: help, usage errors (64), config
 * errors (78), the store lookup, and the path checks — real child processes
 * for exit codes, direct calls for the pure helpers.
 */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTreePath, locate } from '../../host/node/cli/paths.js';
import { parseTime } from '../../host/node/cli/open.js';
import { Progress } from '../../host/node/term/progress.js';
import { planReconcile } from '../../host/node/history/reconcile.js';
import { assertBuilt, forge } from './helpers.js';

let tmp: string;
beforeAll(() => {
  assertBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-cli-usage-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('forge help and usage errors', () => {
  it('--help lists every command and exits 0; each command has its own help', () => {
    const r = forge(['--help'], { cwd: tmp });
    expect(r.code).toBe(0);
    for (const c of ['watch', 'log', 'ls', 'restore', 'diff', 'cat', 'verify', 'stats', 'doctor', 'gc']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const h = forge(['restore', '--help'], { cwd: tmp });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: forge restore <path \| dir> \[options\]/);
    expect(h.stdout).toContain('--version <seq>');
    expect(h.stdout).toContain('Examples:');
  });

  it('usage errors exit 64 with a pointer to --help', () => {
    for (const args of [['frobnicate'], ['log', 'a', 'b'], ['log', '--nope', 'a'], ['restore', 'a', '--version', 'x', '--root', tmp], []]) {
      const r = forge(args, { cwd: tmp });
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/forge (<command>|.*--help)/);
    }
  });

  it('an invalid configuration lists every problem and exits 78 before starting', () => {
    fs.writeFileSync(path.join(tmp, 'forge.config.json'), JSON.stringify({ debounceMs: -5, poolSize: 1000, bogus: 1 }));
    try {
      const r = forge(['watch', tmp, '--metrics-address', 'nope', '--no-metrics'], { cwd: tmp });
      expect(r.code).toBe(78);
      for (const field of ['debounceMs', 'poolSize', 'bogus', 'metricsAddress']) expect(r.stderr).toContain(field);
      expect(fs.existsSync(path.join(tmp, '.forge'))).toBe(false);
    } finally {
      fs.rmSync(path.join(tmp, 'forge.config.json'));
    }
  });

  it('commands other than watch say clearly when there is no store', () => {
    const r = forge(['log', 'x.txt'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no Forge store at ${path.join(tmp, '.forge')}`);
    expect(r.stderr).toContain('hint: Start one with `forge watch');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const d = forge(['log', 'x.txt', '--debug'], { cwd: tmp });
    expect(d.stderr).toMatch(/\n\s+at /); // --debug shows the stack
  });

  it('watch --once scans, stats and gc work, and the store is found from a subdirectory', () => {
    const root = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sub', 'x.txt'), 'one\n');
    fs.writeFileSync(path.join(root, 'y.txt'), 'one\n');
    const w = forge(['watch', root, '--once', '--no-metrics'], { cwd: tmp });
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/initial scan: 2 files/);
    const l = forge(['log', 'x.txt', '--json'], { cwd: path.join(root, 'sub') });
    expect(l.code).toBe(0);
    expect(JSON.parse(l.stdout)).toHaveLength(1);
    const s = forge(['stats', '--json'], { cwd: root });
    expect(s.code).toBe(0);
    const stats = JSON.parse(s.stdout) as Record<string, unknown>;
    expect(stats['files']).toBe(2);
    expect(stats['contents']).toBe(1); // same content twice: deduplicated
    expect(stats['dedupRatio']).toBe(2);
    const g = forge(['gc', '--keep', '1'], { cwd: root });
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/pruned 0 versions/);
    expect(forge(['gc', '--keep', '0'], { cwd: root }).code).toBe(64);
  });
});

describe('path checks', () => {
  it('toTreePath keeps generated relative paths inside the root and refuses those that climb out', () => {
    const root = '/srv/tree';
    const seg = fc.constantFrom('a', 'b', '..', '.', 'c d', 'é');
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 6 }), (parts) => {
        const p = parts.join('/');
        const abs = path.resolve(root, p);
        const inside =
          abs.startsWith(root + '/') &&
          !abs
            .slice(root.length + 1)
            .split('/')
            .includes('.forge');
        if (inside) expect(toTreePath(root, root, p)).toBe(abs.slice(root.length + 1));
        else expect(() => toTreePath(root, root, p)).toThrow(/refusing/);
      }),
      { numRuns: 200 },
    );
    expect(() => toTreePath(root, root, '/etc/passwd')).toThrow(/outside the watched tree/);
    expect(toTreePath(root, '/srv/tree/a', '../b.txt')).toBe('b.txt');
    expect(() => toTreePath(root, root, '.forge/index.db')).toThrow(/store directory/);
  });

  it('locate walks up to the nearest .forge and honours --root/--store', () => {
    const root = path.join(tmp, 'loc');
    fs.mkdirSync(path.join(root, '.forge'), { recursive: true });
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    expect(locate({ values: {}, cwd: path.join(root, 'a', 'b') })).toEqual({ root, storeDir: path.join(root, '.forge') });
    expect(locate({ values: { root: '/x', store: 'st' }, cwd: root }).storeDir).toBe(path.join(root, 'st'));
  });

  it('parseTime reads ISO dates, epoch ms and ages', () => {
    const now = Date.UTC(2026, 0, 2);
    expect(parseTime('2h', 'x', now).getTime()).toBe(now - 7_200_000);
    expect(parseTime('3d ago', 'x', now).getTime()).toBe(now - 3 * 86_400_000);
    expect(parseTime('2026-01-01T00:00:00Z', 'x', now).getTime()).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('1767225600000', 'x', now).getTime()).toBe(1767225600000);
    expect(() => parseTime('yesterday-ish', 'x', now)).toThrow(/--at must be/);
  });
});

describe('reconcile plan and progress', () => {
  it('planReconcile stores new and changed files, skips matching metadata, removes what is gone', () => {
    const f = (p: string, size: number, mtimeMs: number, ino: string) => ({ path: p, abs: `/t/${p}`, size, mode: 0o100644, mtimeMs, ino });
    const v = (p: string, size: number, mtimeMs: number, ino: string) => ({
      seq: 1,
      path: p,
      timeMs: 0,
      kind: 'created' as const,
      hash: 'h',
      size,
      mode: 0o100644,
      mtimeMs,
      ino,
      oldPath: null,
    });
    const walk = {
      files: [f('same', 1, 10, '1'), f('grown', 2, 10, '2'), f('touched', 1, 11, '3'), f('replaced', 1, 10, '9'), f('new', 1, 1, '5')],
      directories: 1,
      skipped: 0,
      problems: [],
      totalBytes: 6,
    };
    const live = [
      v('same', 1, 10, '1'),
      v('grown', 1, 10, '2'),
      v('touched', 1, 10, '3'),
      v('replaced', 1, 10, '4'),
      v('gone', 1, 1, '6'),
      v('ignored-now', 1, 1, '7'),
    ];
    const plan = planReconcile(walk, live, (p) => p === 'ignored-now');
    expect(plan.toStore.map((x) => x.path).sort()).toEqual(['grown', 'new', 'replaced', 'touched']);
    expect(plan.toRemove).toEqual(['gone']);
    expect(plan.unchanged).toBe(1);
  });

  it('Progress: a redrawn bar on a TTY, plain periodic lines otherwise, with rate and ETA', () => {
    let t = 0;
    const chunks: string[] = [];
    const tty = { isTTY: true, columns: 120, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    const p = new Progress({ label: 'scan', stream: tty, totalFiles: 100, totalBytes: 1000, now: () => t });
    t = 1000;
    p.tick(50, 500);
    expect(chunks.at(-1)).toMatch(/^\r\[#+-+\]  50% scan: 50\/100 files, 500 B, 50 files\/s, 500 B\/s, ETA 1\.0 s\x1b\[K$/);
    p.done();
    expect(chunks.at(-1)).toBe('\r\x1b[K');
    const lines: string[] = [];
    const plain = new Progress({ label: 'verify', stream: { write: () => true } as unknown as NodeJS.WritableStream, log: (l) => lines.push(l), now: () => t });
    t += 500;
    plain.tick(1, 0);
    expect(lines).toEqual([]); // not yet due
    t += 2000;
    plain.tick(1, 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^verify: 2 files/);
  });
});
