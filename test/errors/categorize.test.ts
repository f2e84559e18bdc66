/**
 * Property 9: every error gets exactly one category — over generated errno
 * values, io_uring CQE results (negative errno), Win32 codes and error objects.
 *
 * "Exactly one" is checked as: a member of the categories; the same for
 * the same error however it is represented (errno n, CQE -n, { errno }, { code },
 * a Win32 code that maps to the same name); never dependent on the message; and
 * what toForgeError reports. A few well-known codes are pinned by hand.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ERROR_CATEGORIES, ForgeError, LINUX_ERRNO, WIN32_ERRORS, categorize, toForgeError, type ErrorCategory } from '../../host/node/base/errors.js';

const RUNS = { numRuns: 200 };
const knownErrnos = Object.keys(LINUX_ERRNO).map(Number);
const knownWin32 = Object.keys(WIN32_ERRORS).map(Number);
const errno = fc.oneof(fc.constantFrom(...knownErrnos), fc.integer({ min: 1, max: 4095 }));
/** Messages that would fool a substring matcher. */
const message = fc.oneof(
  fc.string(),
  fc.constantFrom('timeout', 'ECONNRESET by peer', 'permission denied', 'ENOENT', 'network is down', 'invalid config', 'module not found'),
);
const category = fc.constantFrom(...ERROR_CATEGORIES);

const errorObject = fc.oneof(
  fc
    .record({
      code: fc.oneof(fc.constantFrom(...Object.values(LINUX_ERRNO), 'ERR_MODULE_NOT_FOUND', 'ERR_INVALID_ARG_TYPE', 'ERR_FORGE_CONFIG'), fc.string()),
      msg: message,
    })
    .map(({ code, msg }) => Object.assign(new Error(msg), { code })),
  fc.record({ errno, msg: message, neg: fc.boolean() }).map(({ errno: n, msg, neg }) => Object.assign(new Error(msg), { errno: neg ? -n : n })),
  fc.record({ cls: fc.constantFrom(TypeError, RangeError, SyntaxError, Error, EvalError, URIError), msg: message }).map(({ cls, msg }) => new cls(msg)),
  fc
    .record({ name: fc.constantFrom('TimeoutError', 'AbortError', 'RuntimeError', 'CompileError', 'LinkError', 'Whatever'), msg: message })
    .map(({ name, msg }) => Object.assign(new Error(msg), { name })),
  fc.record({ cat: category, msg: message }).map(({ cat, msg }) => new ForgeError(cat, msg)),
);
const anyInput = fc.oneof(
  errno.map((n) => ({ kind: 'errno' as const, errno: n })),
  fc.integer({ min: -4095, max: 1 << 20 }).map((res) => ({ kind: 'cqe' as const, res })),
  fc.oneof(fc.constantFrom(...knownWin32), fc.integer({ min: 0, max: 20_000 })).map((code) => ({ kind: 'win32' as const, code })),
  errorObject,
  fc.anything(),
);

function isCategory(c: unknown): c is ErrorCategory {
  return (ERROR_CATEGORIES as readonly unknown[]).includes(c);
}

describe('Property 9: every error gets exactly one category', () => {
  test('any input maps to one of the categories, deterministically, as toForgeError says', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const c = categorize(input);
        expect(isCategory(c)).toBe(true);
        expect(categorize(input)).toBe(c);
        const fe = toForgeError(input, { operation: 'test' });
        expect(fe.category).toBe(c);
        expect(fe.suggestions().length).toBeGreaterThan(0);
        expect(typeof fe.isRetryable()).toBe('boolean');
      }),
      RUNS,
    );
  });

  test('one errno has one category in every representation (errno, CQE, {errno}, {code}, Win32)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownErrnos), message, (n, msg) => {
        const name = LINUX_ERRNO[n]!;
        const c = categorize({ kind: 'errno', errno: n });
        expect(categorize({ kind: 'cqe', res: -n })).toBe(c);
        expect(categorize(Object.assign(new Error(msg), { errno: -n }))).toBe(c);
        expect(categorize(Object.assign(new Error(msg), { code: name }))).toBe(c);
        for (const w of knownWin32.filter((k) => WIN32_ERRORS[k] === name)) expect(categorize({ kind: 'win32', code: w })).toBe(c);
      }),
      RUNS,
    );
  });

  test('the message never decides the category', () => {
    fc.assert(
      fc.property(errorObject, message, (err, other) => {
        const c = categorize(err);
        const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err, { message: other });
        expect(categorize(copy)).toBe(c);
      }),
      RUNS,
    );
  });

  test('well-known codes land where a user expects them', () => {
    const pinned: Array<[unknown, ErrorCategory]> = [
      [{ kind: 'cqe', res: -2 }, 'filesystem'], // ENOENT
      [{ kind: 'cqe', res: -13 }, 'filesystem'], // EACCES
      [{ kind: 'cqe', res: -24 }, 'filesystem'], // EMFILE
      [{ kind: 'errno', errno: 104 }, 'network'], // ECONNRESET
      [{ kind: 'errno', errno: 110 }, 'timeout'], // ETIMEDOUT
      [{ kind: 'cqe', res: -38 }, 'dependency'], // ENOSYS
      [{ kind: 'win32', code: 5 }, 'filesystem'], // ERROR_ACCESS_DENIED
      [{ kind: 'win32', code: 1460 }, 'timeout'], // ERROR_TIMEOUT
      [{ kind: 'cqe', res: 0 }, 'unknown'], // a success is not an error
      [Object.assign(new Error('x'), { code: 'ERR_MODULE_NOT_FOUND' }), 'dependency'],
      [new TypeError('x'), 'validation'],
      [new ForgeError('configuration', 'x'), 'configuration'],
      ['a string', 'unknown'],
    ];
    for (const [input, cat] of pinned) expect(categorize(input)).toBe(cat);
  });
});
