// Linux-runnable unit tests of the kqueue backend's pure parts: struct kevent
// and timespec layouts against <sys/event.h> (LP64), the open flags of
// <sys/fcntl.h>, EVFILT_VNODE translation, directory-rescan diffing, rename
// joining by inode, and errno mapping.
import fc from 'fast-check';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import * as K from '../../host/native/darwin/kqueue-layouts.js';
import { DARWIN_OPEN_FLAGS, LINUX_OPEN_FLAGS, kqueueLibSpec } from '../../host/native/darwin/kqueue-lib.js';
import { pairRenames } from '../../host/native/darwin/kqueue-rename.js';
import { errnoError, errnoName } from '../../host/native/darwin/posix-errors.js';
import { childrenOf, diffListings } from '../../host/native/shared/snapshot-diff.js';
import type { Change } from '../../host/node/base/platform-io.js';
import type { SnapshotEntry } from '../../host/node/watch/scan.js';

describe('struct kevent / timespec (LP64: macOS x86_64 and arm64, libkqueue)', () => {
  it('kevent is 32 bytes: ident 0, filter 8 (int16), flags 10, fflags 12, data 16, udata 24', () => {
    expect(K.KEVENT).toEqual({ size: 32, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24 });
    const t = koffi.struct({ ident: 'uintptr_t', filter: 'int16_t', flags: 'uint16_t', fflags: 'uint32_t', data: 'intptr_t', udata: 'void *' });
    expect(koffi.sizeof(t)).toBe(K.KEVENT.size);
    for (const f of ['filter', 'flags', 'fflags', 'data', 'udata'] as const) expect(koffi.offsetof(t, f)).toBe(K.KEVENT[f]);
    const ts = koffi.struct({ tv_sec: 'int64_t', tv_nsec: 'long' });
    expect(koffi.sizeof(ts)).toBe(K.TIMESPEC.size);
    expect(koffi.offsetof(ts, 'tv_nsec')).toBe(K.TIMESPEC.nsec);
  });
  it('the documented constants', () => {
    expect([K.EVFILT_VNODE, K.EV_ADD, K.EV_DELETE, K.EV_CLEAR, K.EV_ERROR, K.EV_EOF]).toEqual([-4, 1, 2, 0x20, 0x4000, 0x8000]);
    expect([K.NOTE_DELETE, K.NOTE_WRITE, K.NOTE_EXTEND, K.NOTE_ATTRIB, K.NOTE_LINK, K.NOTE_RENAME, K.NOTE_REVOKE]).toEqual([1, 2, 4, 8, 0x10, 0x20, 0x40]);
    expect(K.VNODE_FFLAGS).toBe(0x2f);
  });
  it('encode/decode round-trip any record at any index (200 runs)', () => {
    const ev = fc.record({
      ident: fc.nat(2 ** 31 - 1),
      filter: fc.integer({ min: -32768, max: 32767 }),
      flags: fc.nat(0xffff),
      fflags: fc.nat(0xffffffff),
      data: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      udata: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    });
    fc.assert(
      fc.property(ev, fc.nat(7), (e, i) => {
        const buf = new Uint8Array(K.KEVENT.size * 8);
        K.encodeKevent(buf, i, e);
        expect(K.decodeKevent(buf, i)).toEqual(e);
        // Only that record's bytes were written.
        buf.subarray(i * 32, i * 32 + 32).fill(0);
        expect(buf.every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('open flags and library choice', () => {
  it("macOS flags are <sys/fcntl.h>'s, with O_EVTONLY for watching; elsewhere O_RDONLY", () => {
    expect(DARWIN_OPEN_FLAGS).toEqual({
      O_RDONLY: 0,
      O_WRONLY: 1,
      O_RDWR: 2,
      O_CREAT: 0x200,
      O_TRUNC: 0x400,
      O_CLOEXEC: 0x1000000,
      O_DIRECTORY: 0x100000,
      O_NOFOLLOW: 0x100,
      O_NONBLOCK: 0x4,
      O_WATCH: 0x8000,
    });
    expect(LINUX_OPEN_FLAGS.O_WATCH).toBe(0);
    expect(LINUX_OPEN_FLAGS.O_CREAT).toBe(0o100);
  });
  it('libSystem on macOS; FORGE_KQUEUE_LIB names the kqueue library elsewhere, or none', () => {
    expect(kqueueLibSpec('darwin', {})).toMatchObject({ libc: '/usr/lib/libSystem.B.dylib', kqueue: '/usr/lib/libSystem.B.dylib' });
    expect(kqueueLibSpec('linux', {})).toMatchObject({ libc: 'libc.so.6', kqueue: undefined });
    expect(kqueueLibSpec('linux', { FORGE_KQUEUE_LIB: '/opt/libkqueue.so' }).kqueue).toBe('/opt/libkqueue.so');
  });
});

describe('EVFILT_VNODE translation', () => {
  it('directory NOTE_WRITE rescans; file write/extend/attrib is modified; delete/rename/revoke/EOF is gone', () => {
    expect(K.vnodeAction(K.NOTE_WRITE, 0, true)).toEqual({ rescanDirectory: true, modified: false, gone: false });
    expect(K.vnodeAction(K.NOTE_ATTRIB, 0, true)).toEqual({ rescanDirectory: false, modified: false, gone: false });
    expect(K.vnodeAction(K.NOTE_DELETE, 0, true)).toEqual({ rescanDirectory: false, modified: false, gone: true });
    for (const f of [K.NOTE_WRITE, K.NOTE_EXTEND, K.NOTE_ATTRIB, K.NOTE_WRITE | K.NOTE_EXTEND]) {
      expect(K.vnodeAction(f, 0, false)).toEqual({ rescanDirectory: false, modified: true, gone: false });
    }
    expect(K.vnodeAction(K.NOTE_DELETE | K.NOTE_WRITE, 0, false)).toEqual({ rescanDirectory: false, modified: false, gone: true });
    expect(K.vnodeAction(K.NOTE_RENAME, 0, false).gone).toBe(true);
    expect(K.vnodeAction(0, K.EV_EOF, false).gone).toBe(true);
  });
});

const entry = fc.record({ dir: fc.boolean(), size: fc.nat(1000), mtimeMs: fc.nat(5), ino: fc.integer({ min: 1, max: 10_000 }) });
const listing = fc
  .dictionary(fc.stringMatching(/^[a-c]{1,2}(\/[a-c]{1,2})?$/), entry, { maxKeys: 12 })
  .map((d) => new Map(Object.entries(d)) as Map<string, SnapshotEntry>);

/** Applies changes to a listing the way a consumer would. */
function apply(before: Map<string, SnapshotEntry>, changes: Change[], after: Map<string, SnapshotEntry>): Map<string, SnapshotEntry> {
  const out = new Map(before);
  for (const c of changes) {
    if (c.kind === 'removed') out.delete(c.path);
    else if (c.kind === 'renamed') {
      out.delete(c.oldPath!);
      out.set(c.path, after.get(c.path)!);
    } else out.set(c.path, after.get(c.path)!);
  }
  return out;
}

describe('directory-rescan diffing', () => {
  it('applying the diff to the old listing yields the new one, and unchanged paths are not reported (300 runs)', () => {
    fc.assert(
      fc.property(listing, listing, (before, after) => {
        const changes = diffListings(before, after);
        const result = apply(before, changes, after);
        expect([...result.keys()].sort()).toEqual([...after.keys()].sort());
        for (const c of changes) {
          if (c.kind === 'modified') {
            const b = before.get(c.path)!;
            const a = after.get(c.path)!;
            expect(a.dir !== b.dir || (!a.dir && (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ino !== b.ino))).toBe(true);
          }
        }
        expect(new Set(changes.map((c) => c.path)).size).toBe(changes.length);
      }),
      { numRuns: 300 },
    );
  });
  it('orders parents before children for creations and children before parents for removals', () => {
    const d: SnapshotEntry = { dir: true, size: 0, mtimeMs: 0, ino: 1 };
    const f: SnapshotEntry = { dir: false, size: 1, mtimeMs: 0, ino: 2 };
    expect(
      diffListings(
        new Map(),
        new Map([
          ['a/b', f],
          ['a', d],
        ]),
      ).map((c) => c.path),
    ).toEqual(['a', 'a/b']);
    expect(
      diffListings(
        new Map([
          ['a', d],
          ['a/b', f],
        ]),
        new Map(),
      ).map((c) => c.path),
    ).toEqual(['a/b', 'a']);
  });
  it('childrenOf takes only the direct children of a directory', () => {
    const f: SnapshotEntry = { dir: false, size: 1, mtimeMs: 0, ino: 2 };
    const snap = new Map([
      ['a', f],
      ['a/b', f],
      ['a/b/c', f],
      ['x', f],
    ]);
    expect([...childrenOf(snap, '').keys()]).toEqual(['a', 'x']);
    expect([...childrenOf(snap, 'a').keys()]).toEqual(['a/b']);
  });
});

describe('rename joining by inode', () => {
  const e = (ino: number, dir = false): SnapshotEntry => ({ dir, size: 1, mtimeMs: 0, ino });
  it('joins a removed and a created path with the same inode; leaves others alone', () => {
    const before = new Map([
      ['a', e(7)],
      ['gone', e(8)],
    ]);
    const after = new Map([
      ['b', e(7)],
      ['new', e(9)],
    ]);
    const out = pairRenames(
      [
        { path: 'a', kind: 'removed' },
        { path: 'gone', kind: 'removed' },
        { path: 'b', kind: 'created' },
        { path: 'new', kind: 'created' },
      ],
      before,
      after,
    );
    expect(out).toEqual([
      { path: 'gone', kind: 'removed' },
      { path: 'b', kind: 'renamed', oldPath: 'a' },
      { path: 'new', kind: 'created' },
    ]);
  });
  it('does not join across kinds (file vs directory) or ambiguous hard links', () => {
    expect(
      pairRenames(
        [
          { path: 'a', kind: 'removed' },
          { path: 'b', kind: 'created' },
        ],
        new Map([['a', e(7)]]),
        new Map([['b', e(7, true)]]),
      ),
    ).toHaveLength(2);
    const out = pairRenames(
      [
        { path: 'a', kind: 'removed' },
        { path: 'a2', kind: 'removed' },
        { path: 'b', kind: 'created' },
      ],
      new Map([
        ['a', e(7)],
        ['a2', e(7)],
      ]),
      new Map([['b', e(7)]]),
    );
    expect(out.every((c) => c.kind !== 'renamed')).toBe(true);
  });
  it('never loses a path: every removed/created path appears in the output, as itself or in a rename (200 runs)', () => {
    fc.assert(
      fc.property(listing, listing, (before, after) => {
        const diff = diffListings(before, after);
        const out = pairRenames(diff, before, after);
        const mentioned = new Set(out.flatMap((c) => (c.oldPath ? [c.path, c.oldPath] : [c.path])));
        for (const c of diff) expect(mentioned.has(c.path)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('errno mapping', () => {
  it('1..34 agree between macOS and Linux; above that each platform has its own numbers', () => {
    expect(errnoName(2, 'darwin')).toBe('ENOENT');
    expect(errnoName(2, 'linux')).toBe('ENOENT');
    expect(errnoName(63, 'darwin')).toBe('ENAMETOOLONG');
    expect(errnoName(36, 'linux')).toBe('ENAMETOOLONG');
    expect(errnoName(35, 'darwin')).toBe('EAGAIN');
    const err = errnoError(13, 'open', '/x');
    expect(err).toMatchObject({ category: 'filesystem' });
    expect(err.context).toMatchObject({ code: 'EACCES', errno: 13, backend: 'kqueue', file: '/x' });
  });
});
