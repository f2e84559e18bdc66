// A damaged index is visible: with 4 KiB of index.db overwritten, `forge verify` reports it
// (category integrity) and exits non-zero, instead of "all intact". Real CLI, real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertBuilt, forge } from '../cli/helpers.js';

describe('a corrupted index', () => {
  let dir: string;
  let tree: string;
  let db: string;
  let pristine: string;
  let pages: number;

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'forge-corrupt-index-'));
    tree = join(dir, 'tree');
    mkdirSync(join(tree, 'src'), { recursive: true });
    for (let i = 0; i < 400; i++) writeFileSync(join(tree, 'src', `file-with-a-longish-name-${i}.txt`), `content ${i}\n`);
    const r = forge(['watch', tree, '--once'], { cwd: tree, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    db = join(tree, '.forge', 'index.db');
    expect(existsSync(`${db}-wal`) && statSync(`${db}-wal`).size > 0).toBe(false); // checkpointed on close
    pristine = join(dir, 'pristine.db');
    copyFileSync(db, pristine);
    pages = statSync(db).size / 4096;
    expect(pages).toBeGreaterThan(8);
    expect(forge(['verify'], { cwd: tree }).code).toBe(0);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const where = (name: string): number => (name === 'header' ? 0 : name === 'second page' ? 1 : name === 'middle' ? Math.floor(pages / 2) : pages - 1);
  for (const name of ['header', 'second page', 'middle', 'last page']) {
    it(`4 KiB flipped at the ${name}: verify reports it and exits non-zero`, () => {
      copyFileSync(pristine, db);
      const fd = openSync(db, 'r+');
      writeSync(fd, randomBytes(4096), 0, 4096, where(name) * 4096);
      closeSync(fd);
      for (const args of [['verify'], ['verify', '--full']]) {
        const v = forge(args, { cwd: tree });
        expect(v.code, `${args.join(' ')}\n${v.stdout}\n${v.stderr}`).not.toBe(0);
        expect(v.code).not.toBe(70); // not an internal error: a known category
        expect(v.stdout).not.toContain('all intact');
        expect(`${v.stdout}\n${v.stderr}`).toMatch(/integrity|INDEX CORRUPT/);
      }
    }, 60_000);
  }
});
