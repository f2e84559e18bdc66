/**
 * ForgeError, categorize and toForgeError in detail: what each input becomes (category, code,
 * errno, message, suggestions, retryability, cause), pinned by hand. Written against the
 * mutation-testing survivors of errors.ts: each assertion here fails under a specific change.
 */
import { describe, expect, test } from 'vitest';
import { ForgeError, categorize, categoryOfCode, isTransientCode, timeoutError, toForgeError } from '../../host/node/base/errors.js';

describe('ForgeError', () => {
  test('name, cause only when given, suggestions given or the category defaults', () => {
    const plain = new ForgeError('filesystem', 'm');
    expect(plain.name).toBe('ForgeError');
    expect(plain).toBeInstanceOf(Error);
    expect(Object.hasOwn(plain, 'cause')).toBe(false);
    const cause = new Error('root');
    expect(new ForgeError('filesystem', 'm', { cause }).cause).toBe(cause);
    expect(new ForgeError('filesystem', 'm', { suggestions: ['do X'] }).suggestions()).toEqual(['do X']);
    // An empty list means "use the defaults", which are the category's.
    const empty = new ForgeError('storage', 'm', { suggestions: [] }).suggestions();
    expect(empty).toEqual(new ForgeError('storage', 'other').suggestions());
    expect(empty.join(' ')).toMatch(/Free space/);
    expect(empty).not.toEqual(new ForgeError('network', 'm').suggestions());
    // The copy returned is the caller's to change.
    const e = new ForgeError('timeout', 'm');
    e.suggestions().push('mutated');
    expect(e.suggestions()).not.toContain('mutated');
  });

  test('retryable: by category, by transient filesystem code only, or as overridden', () => {
    expect(new ForgeError('network', 'm').isRetryable()).toBe(true);
    expect(new ForgeError('timeout', 'm').isRetryable()).toBe(true);
    expect(new ForgeError('filesystem', 'm').isRetryable()).toBe(false); // no code
    expect(new ForgeError('filesystem', 'm', { context: { code: 'ENOENT' } }).isRetryable()).toBe(false);
    expect(new ForgeError('filesystem', 'm', { context: { code: 'EBUSY' } }).isRetryable()).toBe(true);
    expect(new ForgeError('filesystem', 'm', { context: { code: 'SQLITE_LOCKED_SHAREDCACHE' } }).isRetryable()).toBe(true);
    // A transient code under another category does not make it retryable.
    expect(new ForgeError('validation', 'm', { context: { code: 'EBUSY' } }).isRetryable()).toBe(false);
    expect(new ForgeError('storage', 'm', { context: { code: 'EAGAIN' } }).isRetryable()).toBe(false);
    expect(new ForgeError('network', 'm', { retryable: false }).isRetryable()).toBe(false);
    expect(new ForgeError('integrity', 'm', { retryable: true }).isRetryable()).toBe(true);
  });

  test('withContext keeps category, cause, suggestions and retryability, and merges the context', () => {
    const cause = new Error('c');
    const e = new ForgeError('integrity', 'm', { cause, suggestions: ['s'], retryable: true, context: { file: '/a', operation: 'get' } });
    const w = e.withContext({ retryCount: 3, operation: 'put' });
    expect(w).not.toBe(e);
    expect([w.category, w.message, w.cause, w.suggestions(), w.isRetryable()]).toEqual(['integrity', 'm', cause, ['s'], true]);
    expect(w.context).toMatchObject({ file: '/a', operation: 'put', retryCount: 3 });
    expect(e.context.retryCount).toBe(0);
  });

  test('toJSON: every field, the cause as name and message (or as given)', () => {
    const e = new ForgeError('network', 'down', { cause: new TypeError('inner'), context: { code: 'ECONNRESET' } });
    const j = e.toJSON();
    expect(j).toEqual({
      name: 'ForgeError',
      category: 'network',
      message: 'down',
      context: e.context,
      suggestions: e.suggestions(),
      retryable: true,
      cause: { name: 'TypeError', message: 'inner' },
    });
    expect(new ForgeError('unknown', 'x', { cause: 'text' }).toJSON().cause).toBe('text');
    expect(JSON.parse(JSON.stringify(e)).context.code).toBe('ECONNRESET');
  });

  test('the context has a timestamp, the platform and retryCount 0 by default; given context wins', () => {
    const e = new ForgeError('unknown', 'm');
    expect(e.context.platform).toBe(process.platform);
    expect(e.context.retryCount).toBe(0);
    expect(Number.isNaN(Date.parse(e.context.timestamp))).toBe(false);
    expect(new ForgeError('unknown', 'm', { context: { retryCount: 2 } }).context.retryCount).toBe(2);
    expect(new ForgeError('unknown', 'm', { context: { code: 'EX' } }).code).toBe('EX');
  });
});

describe('categorize: objects, names and classes', () => {
  test('null, undefined and primitives are unknown (and do not throw)', () => {
    for (const x of [null, undefined, 0, 42, 'ENOENT', true, Symbol('s')]) expect(categorize(x)).toBe('unknown');
  });

  test('an unknown code string falls back to a numeric errno; a known one wins over it', () => {
    expect(categorize({ code: 'WEIRD', errno: -111 })).toBe('network'); // ECONNREFUSED
    expect(categorize({ code: 'ENOENT', errno: -111 })).toBe('filesystem');
    expect(categorize({ errno: '2' })).toBe('unknown'); // errno must be a number
    expect(categorize({ errno: 0 })).toBe('unknown');
    expect(categorize({ errno: 99_999, name: 'TimeoutError' })).toBe('timeout');
  });

  test('by error name or class when there is no code', () => {
    const named = (name: string): Error => Object.assign(new Error('m'), { name });
    expect(categorize(named('TimeoutError'))).toBe('timeout');
    expect(categorize(named('AbortError'))).toBe('timeout');
    expect(categorize(named('RuntimeError'))).toBe('dependency');
    expect(categorize(named('CompileError'))).toBe('dependency');
    expect(categorize(named('LinkError'))).toBe('dependency');
    expect(categorize(named('OtherError'))).toBe('unknown');
    expect(categorize(new SyntaxError('m'))).toBe('validation');
    expect(categorize(new TypeError('m'))).toBe('validation');
    expect(categorize(new RangeError('m'))).toBe('validation');
    expect(categorize(new Error('ETIMEDOUT'))).toBe('unknown'); // never the message
    expect(categorize(new ForgeError('storage', 'm'))).toBe('storage');
  });

  test('code inputs: only kind cqe/errno/win32 count as such; other objects are read for a code', () => {
    expect(categorize({ kind: 'other', code: 'ENOENT' })).toBe('filesystem');
    expect(categorize({ kind: 'cqe', res: 5 })).toBe('unknown'); // a positive result is not an error
    expect(categorize({ kind: 'cqe', res: 0 })).toBe('unknown');
    expect(categorize({ kind: 'errno', errno: -13 })).toBe('filesystem');
    expect(categorize({ kind: 'win32', code: 99_999 })).toBe('unknown');
  });

  test('code names must match whole: no prefix or suffix tricks', () => {
    expect(categoryOfCode('XSQLITE_BUSY')).toBe('unknown');
    expect(isTransientCode('XSQLITE_BUSY')).toBe(false);
    expect(categoryOfCode('EFOO_bar')).toBe('unknown');
    expect(categoryOfCode('XEFOO')).toBe('unknown');
    expect(categoryOfCode('EFOO')).toBe('filesystem');
    expect(categoryOfCode('EOF')).toBe('filesystem');
    expect(categoryOfCode('SQLITE_WHATEVER')).toBe('unknown');
  });
});

describe('toForgeError', () => {
  test('code and errno in the context, for every input form', () => {
    expect(toForgeError({ kind: 'cqe', res: -2 }).context).toMatchObject({ code: 'ENOENT', errno: 2 });
    expect(toForgeError({ kind: 'errno', errno: -5 }).context).toMatchObject({ code: 'EIO', errno: 5 });
    expect(toForgeError({ kind: 'errno', errno: 5 }).context).toMatchObject({ code: 'EIO', errno: 5 });
    expect(toForgeError({ kind: 'win32', code: 32 }).context).toMatchObject({ code: 'EBUSY', errno: 32 });
    expect(toForgeError({ errno: -2 }).context).toMatchObject({ code: 'ENOENT', errno: 2 });
    expect(toForgeError({ code: 5, errno: -2 }).context).toMatchObject({ code: 'ENOENT', errno: 2 });
    const codeOnly = toForgeError(Object.assign(new Error('m'), { code: 'EACCES' }));
    expect(codeOnly.context.code).toBe('EACCES');
    expect('errno' in codeOnly.context).toBe(false);
    // A code string wins over a numeric errno that names something else (SQLite errors carry both).
    expect(toForgeError({ code: 'SQLITE_BUSY', errno: 5 }).context).toMatchObject({ code: 'SQLITE_BUSY', errno: 5 });
    expect(toForgeError(null).message).toBe('null');
    expect(toForgeError(undefined).category).toBe('unknown');
    const neither = toForgeError(new Error('m'));
    expect('code' in neither.context).toBe(false);
    expect('errno' in neither.context).toBe(false);
  });

  test("the message: given, the error's, the code, or the value as text; the file and operation appended", () => {
    expect(toForgeError(new Error('boom'), {}, 'custom').message).toBe('custom');
    expect(toForgeError(new Error('boom')).message).toBe('boom');
    expect(toForgeError({ kind: 'cqe', res: -2 }).message).toBe('ENOENT');
    expect(toForgeError(42).message).toBe('42');
    expect(toForgeError(Object.create(null)).message).toBe('[object Object]');
    expect(toForgeError(new Error('boom'), { file: '/x', operation: 'read' }).message).toBe('boom (read on /x)');
    expect(toForgeError(new Error('boom'), { file: '/x' }).message).toBe('boom (operation on /x)');
    expect(toForgeError(new Error('boom'), { operation: 'read' }).message).toBe('boom');
  });

  test('a ForgeError passes through (with more context when given), keeping its category', () => {
    const e = new ForgeError('integrity', 'm');
    expect(toForgeError(e)).toBe(e);
    const w = toForgeError(e, { file: '/f' });
    expect(w).not.toBe(e);
    expect([w.category, w.context.file, w.message]).toEqual(['integrity', '/f', 'm']);
  });

  test('specific suggestions per code, naming the file (or "the path")', () => {
    const s = (code: string, file?: string): string =>
      toForgeError(Object.assign(new Error('m'), { code }), file ? { file } : {})
        .suggestions()
        .join(' | ');
    expect(s('ENOENT', '/p/q')).toBe('/p/q does not exist: check the path, or create it first.');
    expect(s('ENOENT')).toBe('the path does not exist: check the path, or create it first.');
    expect(s('EACCES', '/p')).toMatch(/^Permission denied on \/p: /);
    expect(s('EPERM', '/p')).toMatch(/^Permission denied on \/p: /);
    expect(s('EMFILE')).toMatch(/^Too many open files: .*ulimit -n/);
    expect(s('ENFILE')).toMatch(/^Too many open files/);
    expect(s('ENOSPC')).toMatch(/^No space left/);
    expect(s('EROFS', '/r')).toMatch(/^\/r is on a read-only filesystem/);
    expect(s('EISDIR', '/d')).toBe('/d is a directory, not a file.');
    expect(s('ENOTDIR', '/d/f')).toBe('A component of /d/f is not a directory.');
    expect(s('ENAMETOOLONG')).toMatch(/too long/);
    expect(s('SQLITE_BUSY')).toMatch(/holds a lock on the index database/);
    expect(s('SQLITE_LOCKED')).toMatch(/holds a lock on the index database/);
    // Any other code: the category's defaults.
    expect(s('EXDEV')).toBe(new ForgeError('filesystem', 'x').suggestions().join(' | '));
    expect(s('ECONNRESET')).toBe(new ForgeError('network', 'x').suggestions().join(' | '));
  });

  test('timeoutError names the duration, the operation and code ETIMEDOUT', () => {
    const t = timeoutError('put', 1500, { file: '/f' });
    expect(t.category).toBe('timeout');
    expect(t.message).toBe('put timed out after 1500 ms');
    expect(t.context).toMatchObject({ operation: 'put', durationMs: 1500, code: 'ETIMEDOUT', file: '/f' });
    expect(t.isRetryable()).toBe(true);
  });
});
