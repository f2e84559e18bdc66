/**
 * Property 9, as a table: every errno, Win32 code and code name that errors.ts names, with the
 * category and retryability a user expects, written out here by hand (not derived from errors.ts).
 * A code added to errors.ts without a row here fails the coverage check; a code moved to another
 * category, or made (non-)retryable, fails its row. Then a property test over random codes.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LINUX_ERRNO, WIN32_ERRORS, categorize, categoryOfCode, isTransientCode, toForgeError, type ErrorCategory } from '../../host/node/base/errors.js';

type Row = [name: string, category: ErrorCategory, retryable: boolean];
const FS = 'filesystem';

/** Linux errno number → the name, category and retryability. */
const LINUX: Record<number, Row> = {
  1: ['EPERM', FS, false],
  2: ['ENOENT', FS, false],
  3: ['ESRCH', FS, false],
  4: ['EINTR', FS, true],
  5: ['EIO', FS, false],
  6: ['ENXIO', FS, false],
  7: ['E2BIG', FS, false],
  8: ['ENOEXEC', FS, false],
  9: ['EBADF', FS, false],
  10: ['ECHILD', FS, false],
  11: ['EAGAIN', FS, true],
  12: ['ENOMEM', FS, false],
  13: ['EACCES', FS, false],
  14: ['EFAULT', FS, false],
  15: ['ENOTBLK', FS, false],
  16: ['EBUSY', FS, true],
  17: ['EEXIST', FS, false],
  18: ['EXDEV', FS, false],
  19: ['ENODEV', FS, false],
  20: ['ENOTDIR', FS, false],
  21: ['EISDIR', FS, false],
  22: ['EINVAL', FS, false],
  23: ['ENFILE', FS, true],
  24: ['EMFILE', FS, true],
  25: ['ENOTTY', FS, false],
  26: ['ETXTBSY', FS, true],
  27: ['EFBIG', FS, false],
  28: ['ENOSPC', 'storage', false],
  29: ['ESPIPE', FS, false],
  30: ['EROFS', FS, false],
  31: ['EMLINK', FS, false],
  32: ['EPIPE', 'network', true],
  33: ['EDOM', FS, false],
  34: ['ERANGE', FS, false],
  35: ['EDEADLK', FS, false],
  36: ['ENAMETOOLONG', FS, false],
  37: ['ENOLCK', FS, false],
  38: ['ENOSYS', 'dependency', false],
  39: ['ENOTEMPTY', FS, false],
  40: ['ELOOP', FS, false],
  61: ['ENODATA', FS, false],
  62: ['ETIME', 'timeout', true],
  74: ['EBADMSG', 'validation', false],
  75: ['EOVERFLOW', FS, false],
  84: ['EILSEQ', 'validation', false],
  95: ['EOPNOTSUPP', 'dependency', false],
  98: ['EADDRINUSE', 'network', true],
  99: ['EADDRNOTAVAIL', 'network', true],
  100: ['ENETDOWN', 'network', true],
  101: ['ENETUNREACH', 'network', true],
  103: ['ECONNABORTED', 'network', true],
  104: ['ECONNRESET', 'network', true],
  107: ['ENOTCONN', 'network', true],
  110: ['ETIMEDOUT', 'timeout', true],
  111: ['ECONNREFUSED', 'network', true],
  112: ['EHOSTDOWN', 'network', true],
  113: ['EHOSTUNREACH', 'network', true],
  122: ['EDQUOT', 'storage', false],
  125: ['ECANCELED', FS, true],
};

/** Win32 error code → the errno-style name, category and retryability. */
const WIN32: Record<number, Row> = {
  2: ['ENOENT', FS, false],
  3: ['ENOENT', FS, false],
  4: ['EMFILE', FS, true],
  5: ['EACCES', FS, false],
  6: ['EBADF', FS, false],
  8: ['ENOMEM', FS, false],
  19: ['EROFS', FS, false],
  32: ['EBUSY', FS, true],
  33: ['EBUSY', FS, true],
  38: ['EOF', FS, false],
  50: ['ENOTSUP', 'dependency', false],
  80: ['EEXIST', FS, false],
  87: ['EINVAL', FS, false],
  112: ['ENOSPC', 'storage', false],
  120: ['ENOSYS', 'dependency', false],
  123: ['EINVAL', FS, false],
  145: ['ENOTEMPTY', FS, false],
  183: ['EEXIST', FS, false],
  206: ['ENAMETOOLONG', FS, false],
  258: ['ETIMEDOUT', 'timeout', true],
  267: ['ENOTDIR', FS, false],
  995: ['ECANCELED', FS, true],
  996: ['EAGAIN', FS, true],
  997: ['EAGAIN', FS, true],
  1117: ['EIO', FS, false],
  1224: ['EBUSY', FS, true],
  1450: ['ENOMEM', FS, false],
  1460: ['ETIMEDOUT', 'timeout', true],
};

/** Code names errors.ts names that have no number above (Node, DNS, SQLite, Forge's own). */
const NAMED: Row[] = [
  ['ENOTFOUND', 'network', true],
  ['EAI_AGAIN', 'network', true],
  ['EPROTO', 'network', true],
  ['ESHUTDOWN', 'network', true],
  ['ENETRESET', 'network', true],
  ['EWOULDBLOCK', FS, true],
  ['ENOTSUP', 'dependency', false],
  ['ERR_TIMEOUT', 'timeout', true],
  ['ABORT_ERR_TIMEOUT', 'timeout', true],
  ['ERR_MODULE_NOT_FOUND', 'dependency', false],
  ['MODULE_NOT_FOUND', 'dependency', false],
  ['ERR_DLOPEN_FAILED', 'dependency', false],
  ['ERR_INVALID_ARG_TYPE', 'validation', false],
  ['ERR_INVALID_ARG_VALUE', 'validation', false],
  ['ERR_OUT_OF_RANGE', 'validation', false],
  ['ERR_FORGE_CONFIG', 'configuration', false],
  ['EOF', FS, false],
  // SQLite (better-sqlite3 puts these, primary or extended, in err.code).
  ['SQLITE_BUSY', FS, true],
  ['SQLITE_BUSY_SNAPSHOT', FS, true],
  ['SQLITE_BUSY_TIMEOUT', FS, true],
  ['SQLITE_BUSY_RECOVERY', FS, true],
  ['SQLITE_LOCKED', FS, true],
  ['SQLITE_LOCKED_SHAREDCACHE', FS, true],
  ['SQLITE_PROTOCOL', FS, true],
  ['SQLITE_IOERR', FS, false],
  ['SQLITE_IOERR_SHORT_READ', FS, false],
  ['SQLITE_IOERR_FSYNC', FS, false],
  ['SQLITE_CANTOPEN', FS, false],
  ['SQLITE_PERM', FS, false],
  ['SQLITE_READONLY', FS, false],
  ['SQLITE_READONLY_DBMOVED', FS, false],
  ['SQLITE_AUTH', FS, false],
  ['SQLITE_NOMEM', FS, false],
  ['SQLITE_FULL', 'storage', false],
  ['SQLITE_CORRUPT', 'integrity', false],
  ['SQLITE_CORRUPT_INDEX', 'integrity', false],
  ['SQLITE_CORRUPT_SEQUENCE', 'integrity', false],
  ['SQLITE_CORRUPT_VTAB', 'integrity', false],
  ['SQLITE_NOTADB', 'integrity', false],
  ['SQLITE_FORMAT', 'integrity', false],
  ['SQLITE_CONSTRAINT', 'validation', false],
  ['SQLITE_CONSTRAINT_UNIQUE', 'validation', false],
  ['SQLITE_MISMATCH', 'validation', false],
  ['SQLITE_TOOBIG', 'validation', false],
  ['SQLITE_RANGE', 'validation', false],
  ['SQLITE_NOLFS', 'dependency', false],
  ['SQLITE_ERROR', 'unknown', false],
  ['SQLITE_MISUSE', 'unknown', false],
  ['SQLITE_ABORT', 'unknown', false],
  ['SQLITE_INTERRUPT', 'unknown', false],
  ['SQLITE_SCHEMA', 'unknown', false],
];

const ALL_NAMED = new Map<string, Row>();
for (const r of [...Object.values(LINUX), ...Object.values(WIN32), ...NAMED]) ALL_NAMED.set(r[0], r);

function check(input: unknown, [name, category, retryable]: Row, label: string): void {
  expect(categorize(input), `${label} (${name}) category`).toBe(category);
  const fe = toForgeError(input, { operation: 'test' });
  expect(fe.category, `${label} (${name}) category via toForgeError`).toBe(category);
  expect(fe.code, `${label} code`).toBe(name);
  expect(fe.isRetryable(), `${label} (${name}) retryable`).toBe(retryable);
}

describe('Property 9 as a table: every code errors.ts names has its expected category and retryability', () => {
  test('the table covers every Linux errno and Win32 code errors.ts knows, with the same names', () => {
    expect(
      Object.keys(LINUX_ERRNO)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(
      Object.keys(LINUX)
        .map(Number)
        .sort((a, b) => a - b),
    );
    expect(
      Object.keys(WIN32_ERRORS)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(
      Object.keys(WIN32)
        .map(Number)
        .sort((a, b) => a - b),
    );
    for (const [n, [name]] of Object.entries(LINUX)) expect(LINUX_ERRNO[Number(n)], `errno ${n}`).toBe(name);
    for (const [n, [name]] of Object.entries(WIN32)) expect(WIN32_ERRORS[Number(n)], `win32 ${n}`).toBe(name);
  });

  test.each(Object.entries(LINUX))('errno %s as a CQE result, an errno, { errno }, { code }', (n, row) => {
    const no = Number(n);
    check({ kind: 'cqe', res: -no }, row, `cqe -${no}`);
    check({ kind: 'errno', errno: no }, row, `errno ${no}`);
    check(Object.assign(new Error('x'), { errno: -no }), row, `{ errno: -${no} }`);
    check(Object.assign(new Error('x'), { code: row[0] }), row, `{ code: ${row[0]} }`);
  });

  test.each(Object.entries(WIN32))('Win32 code %s', (n, row) => check({ kind: 'win32', code: Number(n) }, row, `win32 ${n}`));

  test.each(NAMED)('code name %s', (name, category, retryable) => {
    check(Object.assign(new Error('x'), { code: name }), [name, category, retryable], name);
    expect(categoryOfCode(name)).toBe(category);
  });

  test('isTransientCode agrees with the retryable filesystem rows', () => {
    for (const [name, category, retryable] of ALL_NAMED.values()) {
      if (category === FS) expect(isTransientCode(name), name).toBe(retryable);
    }
  });

  test('random codes: unlisted numbers are unknown; unlisted E-names are non-retryable filesystem; unlisted SQLite codes by their primary; other names unknown', () => {
    const listedErrno = new Set(Object.keys(LINUX).map(Number));
    const listedWin32 = new Set(Object.keys(WIN32).map(Number));
    const upper = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 1, maxLength: 12 });
    const input = fc.oneof(
      fc.integer({ min: 1, max: 1 << 16 }).map((n) => ({ t: 'errno' as const, n })),
      fc.integer({ min: 0, max: 1 << 16 }).map((n) => ({ t: 'win32' as const, n })),
      upper.map((s) => ({ t: 'name' as const, s: `E${s}` })),
      fc.tuple(fc.constantFrom('BUSY', 'LOCKED', 'FULL', 'CORRUPT', 'IOERR', 'CONSTRAINT', 'MISUSE'), upper).map(([p, s]) => ({ t: 'sqlite' as const, p, s })),
      fc.string().map((s) => ({ t: 'any' as const, s })),
    );
    fc.assert(
      fc.property(input, (c) => {
        switch (c.t) {
          case 'errno': {
            const row = LINUX[c.n];
            if (row) return check({ kind: 'errno', errno: c.n }, row, `errno ${c.n}`);
            expect(listedErrno.has(c.n)).toBe(false);
            expect(categorize({ kind: 'errno', errno: c.n })).toBe('unknown');
            expect(categorize({ kind: 'cqe', res: -c.n })).toBe('unknown');
            expect(toForgeError({ kind: 'errno', errno: c.n }).isRetryable()).toBe(false);
            return;
          }
          case 'win32': {
            const row = WIN32[c.n];
            if (row) return check({ kind: 'win32', code: c.n }, row, `win32 ${c.n}`);
            expect(listedWin32.has(c.n)).toBe(false);
            expect(categorize({ kind: 'win32', code: c.n })).toBe('unknown');
            return;
          }
          case 'name': {
            const row = ALL_NAMED.get(c.s) ?? [c.s, FS, false];
            check(Object.assign(new Error(c.s), { code: c.s }), row, c.s);
            return;
          }
          case 'sqlite': {
            // An extended code is treated as its primary (SQLITE_BUSY_X is SQLITE_BUSY).
            const primary = ALL_NAMED.get(`SQLITE_${c.p}`)!;
            const code = `SQLITE_${c.p}_${c.s}`;
            check(Object.assign(new Error(code), { code }), [code, primary[1], primary[2]], code);
            return;
          }
          case 'any': {
            const row = ALL_NAMED.get(c.s);
            const expected = row ? row[1] : /^E[A-Z0-9]+$/.test(c.s) ? FS : /^SQLITE_/.test(c.s) ? undefined : 'unknown';
            if (expected !== undefined) expect(categorize(Object.assign(new Error(), { code: c.s }))).toBe(expected);
            return;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
