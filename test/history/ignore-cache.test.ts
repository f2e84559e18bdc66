/**
 * The walk's ignore matchers are remade every IGNORE_CACHE_PATHS uses (the `ignore` package caches
 * a result per path asked, for the matcher's life: it held the whole tree). Remade matchers must
 * decide exactly as before: over more than three rebuilds, every verdict agrees with
 * `git check-ignore` on the same tree (root and nested .gitignore, a re-include, directory patterns).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonIgnore, IGNORE_CACHE_PATHS, walkTree } from '../../host/node/history/tree-scan.js';

describe('ignore matchers remade every IGNORE_CACHE_PATHS uses', () => {
  it('agree with git check-ignore on every path, across several rebuilds; the walk lists exactly what git does not ignore', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-igcache-'));
    try {
      fs.writeFileSync(path.join(root, '.gitignore'), '*.log\n!keep.log\nbuild/\n');
      const paths: string[] = [];
      for (let d = 0; d < 30; d++) {
        const dir = d % 10 === 0 ? `build${d}/build` : `d${d}`;
        fs.mkdirSync(path.join(root, dir), { recursive: true });
        if (d % 3 === 0) fs.writeFileSync(path.join(root, dir, '.gitignore'), '*.tmp\n');
        for (let i = 0; i < 100; i++) {
          const name = ['a.txt', 'b.log', 'keep.log', 'c.tmp'][i % 4]!.replace('.', `${i}.`).replace('keep0.', 'keep.');
          const rel = `${dir}/${i === 4 ? 'keep.log' : name}`;
          fs.writeFileSync(path.join(root, rel), rel);
          paths.push(rel);
        }
      }
      execFileSync('git', ['init', '-q', root]);
      // git check-ignore exits 1 when nothing is ignored; it lists the ignored paths of stdin.
      let out = '';
      try {
        out = execFileSync('git', ['-C', root, 'check-ignore', '--stdin'], { input: paths.join('\n'), encoding: 'utf8' });
      } catch (e) {
        out = (e as { stdout?: string }).stdout ?? '';
      }
      const gitIgnored = new Set(out.split('\n').filter(Boolean));
      expect(gitIgnored.size).toBeGreaterThan(0);
      expect(gitIgnored.size).toBeLessThan(paths.length);
      // No configured patterns (none of the defaults applies here): the tree's files decide alone.
      const ignored = daemonIgnore(root, { storeDir: path.join(root, '.git') });
      const rounds = Math.ceil((3.5 * IGNORE_CACHE_PATHS) / paths.length);
      for (let r = 0; r < rounds; r++) {
        for (const p of paths) expect(ignored(p), `${p} (round ${r})`).toBe(gitIgnored.has(p));
      }
      const walked = walkTree(root, { storeDir: path.join(root, '.git') }).files.map((f) => f.path);
      const kept = paths.filter((p) => !gitIgnored.has(p));
      expect(walked.filter((p) => !p.endsWith('.gitignore')).sort()).toEqual(kept.sort());
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
