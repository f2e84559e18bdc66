// A missing or empty index beside a store that holds objects is an error, never silently a new
// empty index: `forge verify` must not call such a store intact, and `forge gc` must not delete
// the objects. `forge index rebuild` recovers every content the objects tell. Real CLI, child processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { assertBuilt, forge } from '../cli/helpers.js';
import { Index } from '../../host/node/index-db/index.js';

function countObjects(storeDir: string): number {
  let n = 0;
  const objects = join(storeDir, 'objects');
  for (const fan of readdirSync(objects)) if (/^[0-9a-f]{2}$/.test(fan)) n += readdirSync(join(objects, fan)).length;
  return n;
}

function sha256sum(file: string): string {
  return spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0]!;
}

describe('a lost index', () => {
  let dir: string;
  let tree: string;
  let store: string;
  let objects: number;
  const big = randomBytes(3 << 20); // chunked: manifest + chunks

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'forge-lost-index-'));
    tree = join(dir, 'tree');
    store = join(tree, '.forge');
    mkdirSync(join(tree, 'src'), { recursive: true });
    for (let i = 0; i < 181; i++) writeFileSync(join(tree, 'src', `f${i}.txt`), `file ${i}\n${'x'.repeat(i)}\n`);
    writeFileSync(join(tree, 'big.bin'), big);
    const r = forge(['watch', tree, '--once'], { cwd: tree, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    objects = countObjects(store);
    expect(objects).toBeGreaterThan(181);
    // Old enough that gc's grace period for young objects does not protect them.
    spawnSync('sh', ['-c', `find '${join(store, 'objects')}' -type f -exec touch -d '3 hours ago' {} +`]);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const how of ['removed', 'emptied'] as const) {
    it(`index.db ${how}: verify fails with integrity and a rebuild hint, gc deletes nothing`, () => {
      const backup = join(dir, `index-${how}.db`);
      // Keep the real index to put back afterwards (the next case starts from it).
      spawnSync('cp', [join(store, 'index.db'), backup]);
      if (how === 'removed') rmSync(join(store, 'index.db'));
      else truncateSync(join(store, 'index.db'), 0);
      const v = forge(['verify'], { cwd: tree });
      expect(v.code).not.toBe(0);
      expect(v.stdout).not.toContain('all intact');
      expect(v.stderr).toMatch(/index rebuild/);
      expect(v.stderr).toMatch(/integrity|index .* is (missing|empty)/);
      const g = forge(['gc'], { cwd: tree });
      expect(g.code).not.toBe(0);
      expect(countObjects(store)).toBe(objects);
      // Nothing recreated an index behind our back.
      if (how === 'removed') expect(existsSync(join(store, 'index.db'))).toBe(false);
      spawnSync('cp', [backup, join(store, 'index.db')]);
      expect(forge(['verify'], { cwd: tree }).code).toBe(0);
    }, 60_000);
  }

  it('forge index rebuild recovers every content (chunked too) and says what is lost; then verify passes and gc keeps all', async () => {
    rmSync(join(store, 'index.db'));
    rmSync(join(store, 'index.db-wal'), { force: true });
    rmSync(join(store, 'index.db-shm'), { force: true });
    const r = forge(['index', 'rebuild', '--json'], { cwd: tree });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { recovered: number; chunked: number; lost: string[]; corrupt: string[] };
    expect(report.recovered).toBe(182); // 181 small files and the chunked one
    expect(report.chunked).toBe(1);
    expect(report.lost.join(' ')).toMatch(/paths/);
    expect(report.lost.join(' ')).toMatch(/times/);
    expect(forge(['verify'], { cwd: tree }).code).toBe(0);
    const g = forge(['gc'], { cwd: tree });
    expect(g.code, g.stderr).toBe(0);
    expect(countObjects(store)).toBe(objects);
    // The chunked file is restorable from lost+found, byte for byte (sha256sum as the reference).
    const bigHash = sha256sum(join(tree, 'big.bin'));
    const out = join(dir, 'big.restored');
    const c = forge(['cat', bigHash], { cwd: tree });
    expect(c.code, c.stderr).toBe(0);
    writeFileSync(out, c.stdoutBytes);
    expect(sha256sum(out)).toBe(bigHash);
    const index = await Index.open(join(store, 'index.db'), { readonly: true });
    try {
      expect((await index.latest(`lost+found/${bigHash}`))?.size).toBe(big.length);
    } finally {
      await index.close();
    }
    // A second rebuild over an index with versions is refused without --force.
    expect(forge(['index', 'rebuild'], { cwd: tree }).code).not.toBe(0);
  }, 120_000);

  it('a rebuild while a daemon holds the store is refused, and the index stays as it was', async () => {
    // flock(1) holds the daemon's lock as `forge watch` does: the rebuild must not move the index away under it.
    const lockFile = join(store, 'daemon.lock');
    // The holder waits for the lock (no -n): the probe below takes it for an instant, and a holder
    // that gave up on meeting it there would leave the lock free for the whole test.
    const holder = spawn('flock', [lockFile, 'sleep', '60'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && spawnSync('flock', ['-n', lockFile, 'true']).status === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(spawnSync('flock', ['-n', lockFile, 'true']).status).not.toBe(0);
      const before = sha256sum(join(store, 'index.db'));
      const r = forge(['index', 'rebuild', '--force'], { cwd: tree });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/already recording/);
      expect(sha256sum(join(store, 'index.db'))).toBe(before);
      expect(readdirSync(store).filter((f) => f.startsWith('index.db.before-rebuild'))).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);

  it('an index with no versions beside objects: gc refuses', () => {
    rmSync(join(store, 'index.db'));
    rmSync(join(store, 'index.db-wal'), { force: true });
    rmSync(join(store, 'index.db-shm'), { force: true });
    // Made as the index rebuild makes it (allowed to exist beside objects), but empty.
    const made = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      const { Index } = await import(${JSON.stringify(join(process.cwd(), 'dist/host/node/index-db/index.js'))});
      const i = await Index.open(${JSON.stringify(join(store, 'index.db'))}, { rebuild: true }); await i.close();`,
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const g = forge(['gc'], { cwd: tree });
    expect(g.code).not.toBe(0);
    expect(g.stderr).toMatch(/records no versions/);
    expect(countObjects(store)).toBe(objects);
  }, 60_000);
});
