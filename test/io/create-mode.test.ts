// WriteOp.mode: the permission bits of a file batchWrite creates, as open(2)'s mode (the umask
// applies), on each Linux backend. Checked with `stat -c %a` and sha256sum in child processes,
// whose umask (and, for the reopen cases, uid) is set from outside.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../support/reference-tools.js';
import { ensureDist } from './helpers.js';

ensureDist();
const DIST = resolve('dist/host');
const work = mkdtempSync(join(tmpdir(), 'forge-create-mode-'));
chmodSync(work, 0o755);
/** Directories made outside `work` (on /dev/shm), removed with it. */
const created: string[] = [];
afterAll(() => {
  for (const d of [work, ...created]) rmSync(d, { recursive: true, force: true });
});

/** argv: backend, then JSON ops [{path, size, mode?, sync?, direct?}]; prints the results' ok flags. */
const CHILD = join(work, 'write-ops.mjs');
writeFileSync(
  CHILD,
  `import { createFallbackBackend } from ${JSON.stringify(`${DIST}/node/io/fallback-backend.js`)};
import { createIoUringBackend } from ${JSON.stringify(`${DIST}/native/linux/io-uring-backend.js`)};
const [backend, spec] = process.argv.slice(2);
const io = backend === 'fallback' ? createFallbackBackend() : createIoUringBackend(backend === 'io_uring(ring only)' ? { smallBatchSync: 0 } : {});
const ops = JSON.parse(spec).map((o) => {
  const data = new Uint8Array(o.size);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 255;
  return { ...o, data };
});
const rs = await io.batchWrite(ops);
await io.close();
console.log(JSON.stringify(rs.map((r) => (r.ok ? r.bytes : r.error.message))));
`,
);

interface Op {
  path: string;
  size: number;
  mode?: number | string;
  sync?: boolean;
  direct?: boolean;
}

function writeOps(backend: string, ops: Op[], umask: string, uid?: number): Array<number | string> {
  const r = spawnSync('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, CHILD, backend, JSON.stringify(ops)], {
    encoding: 'utf8',
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Array<number | string>;
}

const statMode = (p: string): string => execFileSync('stat', ['-c', '%a', p], { encoding: 'utf8' }).trim();
/** The bytes the child writes, hashed by sha256sum from a file written here. */
function expectedSha(size: number): string {
  const d = new Uint8Array(size);
  for (let i = 0; i < d.length; i++) d[i] = (i * 31 + (i >> 8)) & 255;
  const p = join(work, `ref-${size}`);
  writeFileSync(p, d);
  return execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;
}
const sha = (p: string): string => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;

let n = 0;
const fresh = (tag: string): string => join(work, `${tag}-${n++}`);

describe.each(['fallback', 'io_uring', 'io_uring(ring only)'])('WriteOp.mode on %s', (backend) => {
  it('mode 0o600 gives a file stat reports as 600 (synced, unsynced, direct with a tail)', () => {
    const ops: Op[] = [
      { path: fresh('a'), size: 100, mode: 0o600 },
      { path: fresh('b'), size: 5000, mode: 0o600, sync: true },
      { path: fresh('c'), size: 3 * 4096 + 7, mode: 0o600, sync: true, direct: true },
      { path: fresh('d'), size: 100 }, // no mode: the default, 644 under umask 022
    ];
    expect(writeOps(backend, ops, '022')).toEqual(ops.map((o) => o.size));
    expect(ops.map((o) => statMode(o.path))).toEqual(['600', '600', '600', '644']);
    for (const o of ops) expect(sha(o.path)).toBe(expectedSha(o.size));
  });

  it('the umask applies: 0o666 under umask 077 is 600, under 027 is 640; 0o400 under 0400 is 0', () => {
    const a = { path: fresh('u'), size: 10, mode: 0o666, sync: true };
    const b = { path: fresh('u'), size: 10, mode: 0o666 };
    expect(writeOps(backend, [a], '077')).toEqual([10]);
    expect(writeOps(backend, [b], '027')).toEqual([10]);
    const c = { path: fresh('u'), size: 10, mode: 0o400, sync: true };
    expect(writeOps(backend, [c], '0400')).toEqual([10]);
    expect([statMode(a.path), statMode(b.path), statMode(c.path)]).toEqual(['600', '640', '0']);
  });

  it('a mode that is not an integer in 0..0o7777 fails that op with a validation error and creates nothing', () => {
    const bad: Array<number | string> = ['644', 0o10000, -1, 1.5];
    const ops = bad.map((mode) => ({ path: fresh('bad'), size: 10, mode, sync: true }));
    const good = { path: fresh('good'), size: 10, mode: 0o600, sync: true };
    const rs = writeOps(backend, [...ops, good], '022');
    for (let i = 0; i < bad.length; i++) {
      expect(rs[i]).toMatch(/mode must be an integer from 0 to 0o7777/);
      expect(spawnSync('test', ['-e', ops[i]!.path]).status).toBe(1);
    }
    expect(rs[bad.length]).toBe(10);
    expect(statMode(good.path)).toBe('600');
  });

  it('an existing file keeps its mode', () => {
    const p = fresh('e');
    writeFileSync(p, 'old');
    chmodSync(p, 0o640);
    expect(writeOps(backend, [{ path: p, size: 20, mode: 0o600, sync: true }], '022')).toEqual([20]);
    expect(statMode(p)).toBe('640');
    expect(sha(p)).toBe(expectedSha(20));
  });
});

// Root may reopen a 0400 file for writing; its owner may not. These run the writer as nobody.
describe.skipIf(!requireRoot('WriteOp.mode 0o400 written by a non-root owner (needs root to switch uid)'))('mode 0o400, non-root owner', () => {
  // /dev/shm: tmpfs, where O_DIRECT may be refused and the direct write restarts buffered (a second open).
  it.each(
    ['fallback', 'io_uring', 'io_uring(ring only)'].flatMap((b) => [
      [b, work],
      [b, '/dev/shm'],
    ]),
  )('%s in %s: a 0400 file is created and filled, direct with a tail too', (backend, base) => {
    const dir = mkdtempSync(join(base!, 'forge-nobody-'));
    created.push(dir);
    chownSync(dir, 65534, 65534);
    const ops: Op[] = [
      { path: join(dir, 'plain'), size: 9000, mode: 0o400, sync: true },
      { path: join(dir, 'direct-tail'), size: 2 * 4096 + 333, mode: 0o400, sync: true, direct: true },
      { path: join(dir, 'direct-aligned'), size: 4 * 4096, mode: 0o400, direct: true },
      { path: join(dir, 'unsynced'), size: 70, mode: 0o400 },
    ];
    expect(writeOps(backend!, ops, '022', 65534)).toEqual(ops.map((o) => o.size));
    for (const o of ops) {
      expect(statMode(o.path)).toBe('400');
      expect(sha(o.path)).toBe(expectedSha(o.size));
    }
  });
});
