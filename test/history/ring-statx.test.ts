/**
 * lstat through the io_uring ring (STATX, AT_SYMLINK_NOFOLLOW) against stat(1): size, mtime
 * seconds, inode, device and file type of regular files, symlinks (the link itself), FIFOs,
 * directories, and the errno of missing paths — the facts the tree scan records.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIoUringBackend, type IoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import { STATX_WINDOW } from '../../host/native/linux/ring-statx.js';

/** stat(1)'s view of `p` (not following a symlink): size, mtime seconds, inode, device, type. */
function statOf(p: string): { size: bigint; mtime: bigint; ino: bigint; dev: bigint; type: string } {
  const [size, mtime, ino, dev, ...type] = execFileSync('stat', ['-c', '%s %Y %i %d %F', p], { encoding: 'utf8' }).trim().split(' ');
  return { size: BigInt(size!), mtime: BigInt(mtime!), ino: BigInt(ino!), dev: BigInt(dev!), type: type.join(' ') };
}

const TYPE: Record<number, string> = { 0o100000: 'regular', 0o120000: 'symbolic link', 0o010000: 'fifo', 0o040000: 'directory' };

describe.skipIf(process.platform !== 'linux')('ring statx (IORING_OP_STATX)', () => {
  let dir: string;
  let io: IoUringBackend;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-statx-'));
    io = createIoUringBackend({ entries: 16 });
  });
  afterAll(async () => {
    await io.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives what stat -c "%s %Y %i %d %F" gives for files, empty files, symlinks, FIFOs and directories', async () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x'.repeat(12345));
    fs.writeFileSync(path.join(dir, 'empty'), '');
    fs.symlinkSync('file', path.join(dir, 'link'));
    fs.symlinkSync('/nowhere/at/all', path.join(dir, 'dangling'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.utimesSync(path.join(dir, 'file'), 1_000_000_000, 1_234_567_890);
    const names = ['file', 'empty', 'link', 'dangling', 'fifo', 'sub'];
    const got = await io.lstatMany(names.map((n) => path.join(dir, n)));
    for (let i = 0; i < names.length; i++) {
      const r = got[i]!;
      if (typeof r === 'number') throw new Error(`${names[i]}: errno ${-r}`);
      const want = statOf(path.join(dir, names[i]!));
      expect({ name: names[i], size: r.size, sec: r.mtimeNs / 1_000_000_000n, ino: r.ino, dev: r.dev, type: TYPE[r.mode & 0o170000] }).toEqual({
        name: names[i],
        size: want.size,
        sec: want.mtime,
        ino: want.ino,
        dev: want.dev,
        type: want.type.replace('regular empty file', 'regular').replace('regular file', 'regular'),
      });
    }
    expect((got[0] as { mtimeNs: bigint }).mtimeNs / 1_000_000_000n).toBe(1_234_567_890n);
  });

  it('gives -ENOENT for a missing path, -ENOTDIR below a file, -EINVAL for a name with a NUL byte', async () => {
    const got = await io.lstatMany([path.join(dir, 'missing'), path.join(dir, 'file', 'below'), path.join(dir, 'a\0b')]);
    expect(got).toEqual([-os.constants.errno.ENOENT, -os.constants.errno.ENOTDIR, -os.constants.errno.EINVAL]);
  });

  it('keeps results in order over several windows, equal to lstat of each (property)', async () => {
    const many = path.join(dir, 'many');
    fs.mkdirSync(many);
    const n = STATX_WINDOW * 2 + 7;
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(many, `f${i}`), 'y'.repeat(i));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: n + 20 }), { minLength: 0, maxLength: n + 40 }), async (picks) => {
        const paths = picks.map((i) => path.join(many, `f${i}`));
        const got = await io.lstatMany(paths);
        expect(got.length).toBe(paths.length);
        for (let k = 0; k < paths.length; k++) {
          const r = got[k]!;
          if (picks[k]! >= n) expect(r).toBe(-os.constants.errno.ENOENT);
          else {
            const st = fs.lstatSync(paths[k]!, { bigint: true });
            expect(typeof r === 'number' ? r : { size: r.size, ino: r.ino, dev: r.dev, mtimeNs: r.mtimeNs, mode: r.mode }).toEqual({
              size: st.size,
              ino: st.ino,
              dev: st.dev,
              mtimeNs: st.mtimeNs,
              mode: Number(st.mode),
            });
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
