/**
 * The inotify watcher's start-up walk: directories listed with getdents64 (parsed in TypeScript)
 * and identified by the watch descriptor their watch got, not by an lstat. Expected values come
 * from find(1) and from the kernel's own list of watches (/proc/self/fdinfo).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GetdentsLister, parseDirents } from '../../host/native/linux/inotify-listing.js';
import { PollInotifyReader } from '../../host/native/linux/inotify-reader.js';
import { InotifyWatchSource } from '../../host/native/linux/inotify-watcher.js';
import { ManagedWatchHandle, resolveWatchOptions } from '../../host/node/watch/handle.js';
import { DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN } from '../../host/node/watch/scan.js';
import { REQUIRE_REFERENCE_TOOLS, requireRoot, requireTool } from '../support/reference-tools.js';
import { Collector, rmrf, tmpRoot, watchedInodes } from './helpers.js';

const linuxOnly = describe.skipIf(process.platform !== 'linux');
const roots: string[] = [];
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0).reverse()) spawnSync('umount', ['-l', m]);
  for (const r of roots.splice(0)) rmrf(r);
});

/** find's %y letter for a d_type (f, d, l; FIFO, socket, device: "other"; DT_UNKNOWN must never come out). */
const findType = (t: number): string => (t === DT_REG ? 'f' : t === DT_DIR ? 'd' : t === DT_LNK ? 'l' : t === DT_UNKNOWN ? 'DT_UNKNOWN' : 'other');

/** `name\ttype` for every entry of `dir`, from find(1): names as bytes, decoded as Node decodes a path. */
function findListing(dir: string): string[] {
  const r = spawnSync('find', [dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\0%y\\0']);
  expect(r.status).toBe(0);
  const out: string[] = [];
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < r.stdout.length; i++) {
    if (r.stdout[i] !== 0) continue;
    parts.push(r.stdout.subarray(start, i));
    start = i + 1;
  }
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const y = parts[i + 1]!.toString();
    out.push(`${parts[i]!.toString('utf8')}\t${'fdl'.includes(y) ? y : 'other'}`);
  }
  return out.sort();
}

function lister(dir: string, l = new GetdentsLister()): string[] {
  const names: string[] = [];
  const types: number[] = [];
  expect(l.list(dir, names, types)).toBeUndefined();
  return names.map((n, i) => `${n}\t${findType(types[i]!)}`).sort();
}

/** Creates `dir/<name bytes>` from a Buffer path, so names that are not UTF-8 are made byte for byte. */
function touchBytes(dir: string, name: Buffer): void {
  fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), 'x');
}

linuxOnly('getdents64 listing', () => {
  it('returns the names and types find -maxdepth 1 -printf reports: files, directories, links, a FIFO, a socket, a name that is not UTF-8', async () => {
    const root = tmpRoot('getdents');
    roots.push(root);
    fs.writeFileSync(path.join(root, 'plain.txt'), 'x');
    fs.mkdirSync(path.join(root, 'sub'));
    fs.symlinkSync('sub', path.join(root, 'to-sub'));
    fs.symlinkSync('nowhere', path.join(root, 'dangling'));
    fs.writeFileSync(path.join(root, 'ünïcødé ✓'), 'u');
    expect(spawnSync('mkfifo', [path.join(root, 'fifo')]).status).toBe(0);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(root, 'sock'), r));
    try {
      touchBytes(root, Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe])); // "bad" + two bytes that are not UTF-8
      const expected = findListing(root);
      expect(expected.length).toBe(8);
      expect(lister(root)).toEqual(expected);
    } finally {
      server.close();
    }
  });

  it('parses hand-laid-out records, skips . and .., keeps DT_UNKNOWN, and never reads past the length given', () => {
    // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name, NUL, padded to 8.
    const rec = (name: string, type: number): Buffer => {
      const len = Math.ceil((19 + Buffer.byteLength(name) + 1) / 8) * 8;
      const b = Buffer.alloc(len, 0xaa); // the padding after the NUL is not zeroed by the kernel either
      b.writeBigUInt64LE(42n, 0);
      b.writeBigInt64LE(1n, 8);
      b.writeUInt16LE(len, 16);
      b[18] = type;
      b.write(name, 19);
      b[19 + Buffer.byteLength(name)] = 0;
      return b;
    };
    const recs = [rec('.', 4), rec('..', 4), rec('a', 8), rec('abcde', 4), rec('ünï', 0), rec('cut-off', 8)];
    const buf = Buffer.concat(recs);
    const names: string[] = [];
    const types: number[] = [];
    parseDirents(buf, buf.length - recs[5]!.length + 10, names, types); // the last record cut short
    expect(names).toEqual(['a', 'abcde', 'ünï']); // abcde: its NUL is the first byte of the record's last 8
    expect(types).toEqual([8, 4, 0]);
  });

  it('a directory larger than one getdents64 buffer is listed whole (several calls)', () => {
    const root = tmpRoot('getdents-big');
    roots.push(root);
    // 3,000 names of 60 bytes: ~240 KiB of records, several 64 KiB reads.
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(root, `${String(i).padStart(6, '0')}-${'n'.repeat(53)}`), '');
    const got = lister(root);
    expect(got.length).toBe(3000);
    expect(got).toEqual(findListing(root));
  });

  it('property: any set of byte names (UTF-8 or not) lists as find lists it', () => {
    const root = tmpRoot('getdents-prop');
    roots.push(root);
    const l = new GetdentsLister();
    // Name bytes: anything but NUL and '/', 1..40 bytes, not "." or "..".
    const nameArb = fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .map((a) => Buffer.from(a.map((b) => (b === 0 || b === 0x2f ? 0x61 : b))))
      .filter((b) => b.toString('latin1') !== '.' && b.toString('latin1') !== '..');
    let run = 0;
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { maxLength: 12, selector: (b) => b.toString('latin1') }), fc.boolean(), (names, withDir) => {
        const dir = path.join(root, `r${run++}`);
        fs.mkdirSync(dir);
        for (const n of names) touchBytes(dir, n);
        if (withDir) fs.mkdirSync(path.join(dir, 'a-dir'), { recursive: true });
        expect(lister(dir, l)).toEqual(findListing(dir));
      }),
      { numRuns: 100 },
    );
  });

  const hasLoop = fs.existsSync('/dev/loop-control');
  if (!hasLoop && REQUIRE_REFERENCE_TOOLS) throw new Error('forge tests: the DT_UNKNOWN fallback needs loop devices (/dev/loop-control)');
  if (!hasLoop) process.stderr.write('forge tests: not run: the DT_UNKNOWN fallback (no /dev/loop-control: loop devices are needed)\n');
  const canMountExt2 =
    hasLoop &&
    requireRoot('the DT_UNKNOWN fallback on an ext2 without file types (loop mount)') &&
    requireTool('mkfs.ext2', 'e2fsprogs', 'the DT_UNKNOWN fallback');
  it.runIf(canMountExt2)('on a filesystem that reports DT_UNKNOWN (ext2 -O ^filetype), types come from lstat and match find', () => {
    const work = tmpRoot('dt-unknown');
    roots.push(work);
    const img = path.join(work, 'fs.img');
    const mnt = path.join(work, 'mnt');
    fs.mkdirSync(mnt);
    fs.writeFileSync(img, Buffer.alloc(0));
    fs.truncateSync(img, 8 << 20);
    expect(spawnSync('mkfs.ext2', ['-q', '-F', '-O', '^filetype', img]).status).toBe(0);
    const m = spawnSync('mount', ['-o', 'loop', img, mnt]);
    if (m.status !== 0) throw new Error(`mount -o loop failed (no loop device?): ${m.stderr}`);
    mounts.push(mnt);
    fs.mkdirSync(path.join(mnt, 'd'));
    fs.writeFileSync(path.join(mnt, 'f'), 'x');
    fs.symlinkSync('f', path.join(mnt, 'l'));
    expect(spawnSync('mkfifo', [path.join(mnt, 'p')]).status).toBe(0);
    const l = new GetdentsLister();
    expect(lister(mnt, l)).toEqual(findListing(mnt));
    // Every entry (lost+found, d, f, l, p) came as DT_UNKNOWN and was resolved by lstat.
    expect(l.typesByLstat).toBe(5);
  });
});

/** Starts an inotify watch (poll reader) on `root`; returns the handle and its inotify fd. */
async function inotifyWatch(root: string, followSymlinks: boolean): Promise<{ h: ManagedWatchHandle; fd: number }> {
  const o = resolveWatchOptions(root, { debounceMs: 0, followSymlinks });
  const src = new InotifyWatchSource(root, { ignore: o.ignore, followSymlinks }, new PollInotifyReader());
  const h = new ManagedWatchHandle(src, o);
  await h.ready;
  return { h, fd: src.inotifyFd };
}

/** Inodes (hex, as fdinfo prints them) of the directories under `root`, each once, from find(1). */
function findDirInodes(root: string, follow: boolean): string[] {
  const r = spawnSync('find', [...(follow ? ['-L'] : []), root, '-type', 'd', '-printf', '%i\\n'], { encoding: 'utf8' });
  // find -L reports the loop it meets on stderr (status 1): the inodes it printed are still right.
  return [
    ...new Set(
      r.stdout
        .trim()
        .split('\n')
        .map((i) => BigInt(i).toString(16)),
    ),
  ].sort();
}

linuxOnly('directories identified by watch descriptor', () => {
  it('with followSymlinks, a symlink loop and a second link to a directory end, each directory watched once', async () => {
    const root = tmpRoot('wd-loop');
    roots.push(root);
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    fs.symlinkSync(root, path.join(root, 'a/b/up')); // a loop back to the root
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'alias')); // a second path to a
    fs.writeFileSync(path.join(root, 'a/b/f.txt'), 'x');
    const { h, fd } = await inotifyWatch(root, true);
    try {
      const expected = findDirInodes(root, true);
      expect(expected.length).toBe(3);
      expect(watchedInodes(fd).sort()).toEqual(expected);
      expect(h.stats().directoriesWatched).toBe(3);
      // The real path wins over the alias: a change inside is reported under a/b.
      const c = new Collector(h);
      fs.writeFileSync(path.join(root, 'a/b/f.txt'), 'y');
      await c.waitFor((all) => all.some((x) => x.path === 'a/b/f.txt'), 5000, 'a/b/f.txt modified');
      expect(c.changes.filter((x) => x.path.startsWith('alias/'))).toEqual([]);
    } finally {
      await h.close();
    }
  });

  const canBind = requireRoot('a bind-mounted directory reached twice (mount --bind)');
  it.runIf(canBind)('a directory reached twice through a bind mount is watched and reported once', async () => {
    const root = tmpRoot('wd-bind');
    roots.push(root);
    fs.mkdirSync(path.join(root, 'a/inner'), { recursive: true });
    fs.mkdirSync(path.join(root, 'b'));
    fs.writeFileSync(path.join(root, 'a/inner/f.txt'), 'x');
    expect(spawnSync('mount', ['--bind', path.join(root, 'a'), path.join(root, 'b')]).status).toBe(0);
    mounts.push(path.join(root, 'b'));
    const { h, fd } = await inotifyWatch(root, false);
    try {
      // find sees a, a/inner, b, b/inner: four paths, three inodes (b is a's inode).
      const expected = findDirInodes(root, false);
      expect(expected.length).toBe(3);
      const watched = watchedInodes(fd).sort();
      expect(watched).toEqual(expected);
      expect(h.stats().directoriesWatched).toBe(3);
      expect(h.stats().filesWatched).toBe(1); // f.txt under one path only
      const c = new Collector(h);
      fs.writeFileSync(path.join(root, 'a/inner/f.txt'), 'y');
      await c.waitFor((all) => all.some((x) => x.path.endsWith('inner/f.txt')), 5000, 'inner/f.txt modified');
      await new Promise((r) => setTimeout(r, 100));
      expect(c.changes.filter((x) => x.path.endsWith('inner/f.txt')).length).toBe(1);
    } finally {
      await h.close();
    }
  });
});
