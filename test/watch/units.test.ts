/**
 * Unit tests of the watcher's pure parts: the inotify record decoder (against
 * records the kernel wrote, and hand-laid-out ones), ignore patterns and
 * option validation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IN_CLOEXEC, IN_CREATE, IN_ISDIR, IN_NONBLOCK, IN_Q_OVERFLOW, decodeInotifyEvents, inotifyBindings } from '../../host/native/linux/inotify.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { resolveWatchOptions } from '../../host/node/watch/handle.js';
import { compileIgnore } from '../../host/node/watch/ignore.js';
import { rmrf, tmpRoot } from './helpers.js';

/** One struct inotify_event laid out by hand: wd, mask, cookie, len, then the NUL-padded name. */
function record(wd: number, mask: number, cookie: number, name: string, padTo = 16): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const len = name === '' ? 0 : Math.ceil((nameBytes.length + 1) / padTo) * padTo;
  const b = Buffer.alloc(16 + len);
  b.writeInt32LE(wd, 0);
  b.writeUInt32LE(mask >>> 0, 4);
  b.writeUInt32LE(cookie, 8);
  b.writeUInt32LE(len, 12);
  nameBytes.copy(b, 16);
  return b;
}

describe('decodeInotifyEvents', () => {
  it('decodes hand-laid-out records, including an overflow (wd -1) and a UTF-8 name', () => {
    const buf = Buffer.concat([record(1, IN_CREATE, 0, 'a.txt'), record(-1, IN_Q_OVERFLOW, 0, ''), record(7, IN_CREATE | IN_ISDIR, 42, 'répertoire-ü')]);
    expect(decodeInotifyEvents(buf, buf.length)).toEqual([
      { wd: 1, mask: IN_CREATE, cookie: 0, name: 'a.txt' },
      { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: '' },
      { wd: 7, mask: (IN_CREATE | IN_ISDIR) >>> 0, cookie: 42, name: 'répertoire-ü' },
    ]);
  });

  it('never reads past the given length (a cut record is dropped)', () => {
    const buf = Buffer.concat([record(1, IN_CREATE, 0, 'a'), record(2, IN_CREATE, 0, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')]);
    expect(decodeInotifyEvents(buf, buf.length - 5)).toEqual([{ wd: 1, mask: IN_CREATE, cookie: 0, name: 'a' }]);
    expect(decodeInotifyEvents(buf, 10)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('decodes what the kernel writes for real', () => {
    const root = tmpRoot('decode');
    const b = inotifyBindings();
    const fd = b.init1(IN_NONBLOCK | IN_CLOEXEC);
    expect(fd).toBeGreaterThanOrEqual(0);
    try {
      const wd = b.addWatch(fd, root, IN_CREATE);
      expect(wd).toBeGreaterThan(0);
      fs.writeFileSync(path.join(root, 'file-one'), '');
      fs.mkdirSync(path.join(root, 'dir-two'));
      const buf = Buffer.alloc(4096);
      const n = b.read(fd, buf, buf.length);
      expect(n).toBeGreaterThan(0);
      expect(decodeInotifyEvents(buf, n)).toEqual([
        { wd, mask: IN_CREATE, cookie: 0, name: 'file-one' },
        { wd, mask: (IN_CREATE | IN_ISDIR) >>> 0, cookie: 0, name: 'dir-two' },
      ]);
    } finally {
      b.close(fd);
      rmrf(root);
    }
  });
});

describe('compileIgnore', () => {
  it('ignores node_modules, .git and .forge by default, anywhere in the path', () => {
    const ig = compileIgnore(undefined);
    for (const p of ['node_modules', 'a/node_modules/b.js', '.git/HEAD', 'x/.forge/objects/ab']) expect(ig(p)).toBe(true);
    for (const p of ['src/index.ts', 'node_modules_x/a', 'a.git', '']) expect(ig(p)).toBe(false);
  });

  it('matches names, globs (*, ?, **) against the path and the basename, RegExps, and !negations of defaults', () => {
    const ig = compileIgnore(['dist', '*.log', 'build/**', 'src/**/gen-?.ts', /\.tmp$/, '!.git']);
    expect(ig('dist/a.js')).toBe(true);
    expect(ig('deep/a.log')).toBe(true);
    expect(ig('build/x/y.js')).toBe(true);
    expect(ig('src/a/b/gen-1.ts')).toBe(true);
    expect(ig('src/gen-1.ts')).toBe(true);
    expect(ig('src/gen-12.ts')).toBe(false);
    expect(ig('x/file.tmp')).toBe(true);
    expect(ig('.git/HEAD')).toBe(false);
    expect(ig('node_modules/x')).toBe(true);
    expect(ig('logs/a.txt')).toBe(false);
  });
});

describe('resolveWatchOptions', () => {
  it('applies defaults', () => {
    expect(resolveWatchOptions('/r', undefined)).toEqual({ debounceMs: 100, ignore: [], followSymlinks: false });
  });
  it.each([[{ debounceMs: -1 }], [{ debounceMs: Number.NaN }], [{ ignore: 'node_modules' as unknown as string[] }], [{ ignore: [3 as unknown as string] }]])(
    'rejects %j with a validation ForgeError naming the field',
    (opts) => {
      let err: unknown;
      try {
        resolveWatchOptions('/r', opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).category).toBe('validation');
      expect((err as ForgeError).context.field).toBe(Object.keys(opts)[0]);
    },
  );
});
