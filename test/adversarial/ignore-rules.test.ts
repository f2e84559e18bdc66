/**
 * Ignore rules are git's: the daemon's matcher (patterns, the tree's .gitignore files nested too,
 * .forgeignore) agrees with `git check-ignore` on the same tree for generated patterns and paths.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonIgnore } from '../../host/node/history/tree-scan.js';
import { requireTool } from '../support/reference-tools.js';
import { cleanup, tempDir } from './support.js';

const git = requireTool('git', 'git', 'ignore rules checked against git check-ignore');
const PATTERNS = [
  'dist',
  '/dist',
  'dist/',
  '*.log',
  '**/tmp',
  'a/**/b',
  '[ab].txt',
  '{a,b}',
  '!keep.log',
  'docs/*.md',
  '?.c',
  'build/**',
  'sub/x',
  '/src/*.txt',
  '*.txt',
  '!c.txt',
  'b/',
];
const DIRS = ['a', 'b', 'dist', 'src', 'tmp', 'docs', 'sub', 'build'];
const FILES = ['keep.log', 'e.log', 'a.txt', 'c.txt', 'r.md', 'z.c', 'x', '{a,b}'];
const NO_DEFAULTS = ['!node_modules', '!.git', '!.forge'];

const base = tempDir('ignore');
afterAll(() => cleanup(base));

describe.skipIf(!git)('ignore rules against git check-ignore', () => {
  it('agrees with git for generated .gitignore files (root and nested) and paths (fast-check, 120 runs)', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        fc.uniqueArray(fc.tuple(fc.array(fc.constantFrom(...DIRS), { maxLength: 3 }), fc.constantFrom(...FILES)), { minLength: 1, maxLength: 30 }),
        (rootPatterns, nestedPatterns, files) => {
          const root = path.join(base, `t${run++}`);
          mkdirSync(root, { recursive: true });
          expect(spawnSync('git', ['init', '-q', root]).status).toBe(0);
          writeFileSync(path.join(root, '.gitignore'), rootPatterns.join('\n') + '\n');
          if (nestedPatterns.length > 0) {
            mkdirSync(path.join(root, 'sub'), { recursive: true });
            writeFileSync(path.join(root, 'sub', '.gitignore'), nestedPatterns.join('\n') + '\n');
          }
          const paths = [...new Set(files.map(([d, f]) => [...d, f].join('/')))];
          for (const p of paths) {
            mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
            writeFileSync(path.join(root, p), 'x');
          }
          const r = spawnSync('git', ['-C', root, 'check-ignore', '--stdin'], { input: paths.join('\n') + '\n' });
          expect([0, 1]).toContain(r.status);
          const byGit = new Set(r.stdout.toString().split('\n').filter(Boolean));
          const ours = daemonIgnore(root, { ignore: NO_DEFAULTS });
          const mismatches = paths.filter((p) => ours(p) !== byGit.has(p));
          rmSync(root, { recursive: true, force: true });
          expect(mismatches, `root .gitignore ${JSON.stringify(rootPatterns)}, sub/.gitignore ${JSON.stringify(nestedPatterns)}`).toEqual([]);
        },
      ),
      {
        numRuns: 120,
        // Found by this property: a deeper file cannot re-include below a directory a higher one excludes.
        examples: [[['**/tmp', 'dist'], ['!c.txt'], [[['sub', 'tmp'], 'c.txt']]]],
      },
    );
  }, 120_000);

  it('--ignore patterns and .forgeignore use the same syntax', () => {
    const root = path.join(base, 'forgeignore');
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, '.forgeignore'), '/venv\n*.pyc\n');
    const m = daemonIgnore(root, { ignore: ['/dist', '[ab].tmp', '{x,y}'] });
    expect(['venv/lib/a.py', 'src/m.pyc', 'dist/app.js', 'a.tmp', '{x,y}'].map(m)).toEqual([true, true, true, true, true]);
    expect(['src/venv/a.py', 'src/dist/app.js', 'c.tmp', 'x', 'node_modules/p/i.js'].map(m)).toEqual([false, false, false, false, true]);
  });
});
