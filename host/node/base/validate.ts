/**
 * Input checks every PlatformIO backend applies, so a bad argument gets the same validation
 * ForgeError whichever backend runs.
 */
import { ForgeError } from './errors.js';
import type { BackendName } from './platform-io.js';

/**
 * A validation ForgeError if `path` is not a non-empty string without NUL bytes.
 *
 * @example
 * ```ts
 * const bad = pathProblem('', 'readAll', 'fallback'); // ForgeError (validation)
 * ```
 */
export function pathProblem(path: unknown, operation: string, backend: BackendName): ForgeError | undefined {
  if (typeof path === 'string' && path.length > 0 && !path.includes('\0')) return undefined;
  return new ForgeError('validation', `${operation}: path must be a non-empty string without NUL bytes`, {
    context: { operation, backend, file: String(path) },
    suggestions: ['Pass file paths as non-empty strings.'],
  });
}

/**
 * A validation ForgeError if `data` is not a Uint8Array.
 *
 * @example
 * ```ts
 * dataProblem('text', 'a.txt', 'writeAll', 'io_uring'); // ForgeError: encode strings first
 * ```
 */
export function dataProblem(data: unknown, path: unknown, operation: string, backend: BackendName): ForgeError | undefined {
  if (data instanceof Uint8Array) return undefined;
  return new ForgeError('validation', `${operation}: data must be a Uint8Array (or Buffer)`, {
    context: { operation, backend, file: String(path) },
    suggestions: ['Encode strings first, e.g. Buffer.from(text).'],
  });
}

/**
 * A validation ForgeError if a write's `mode` is given and is not an integer in 0..0o7777
 * (open(2)'s permission and sticky/setuid bits; anything else would be silently masked).
 *
 * @example
 * ```ts
 * modeProblem(0o400, 'a.txt', 'batchWrite', 'io_uring'); // undefined
 * modeProblem('644', 'a.txt', 'batchWrite', 'io_uring'); // ForgeError (validation)
 * ```
 */
export function modeProblem(mode: unknown, path: unknown, operation: string, backend: BackendName): ForgeError | undefined {
  if (mode === undefined || (Number.isInteger(mode) && (mode as number) >= 0 && (mode as number) <= 0o7777)) return undefined;
  return new ForgeError('validation', `${operation}: mode must be an integer from 0 to 0o7777 (got ${String(mode)})`, {
    context: { operation, backend, file: String(path) },
    suggestions: ['Pass permission bits as a number, e.g. mode: 0o644 (not the string "644").'],
  });
}

/**
 * A validation ForgeError if offset/length are not non-negative safe integers.
 *
 * @example
 * ```ts
 * rangeProblem(-1, 10, 'a.bin', 'fallback'); // ForgeError (validation)
 * ```
 */
export function rangeProblem(offset: number, length: number, path: string, backend: BackendName): ForgeError | undefined {
  if (Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0) return undefined;
  return new ForgeError('validation', `offset and length must be non-negative integers (got ${offset}, ${length})`, {
    context: { operation: 'read', backend, file: path },
  });
}

/** Throws {@link pathProblem}'s error, if any. */
export function checkPath(path: unknown, operation: string, backend: BackendName): asserts path is string {
  const e = pathProblem(path, operation, backend);
  if (e) throw e;
}

/** Throws {@link dataProblem}'s error, if any. */
export function checkData(data: unknown, path: unknown, operation: string, backend: BackendName): asserts data is Uint8Array {
  const e = dataProblem(data, path, operation, backend);
  if (e) throw e;
}

/** Throws {@link rangeProblem}'s error, if any. */
export function checkRange(offset: number, length: number, path: string, backend: BackendName): void {
  const e = rangeProblem(offset, length, path, backend);
  if (e) throw e;
}
