/**
 * Win32 error codes → ForgeError. The category comes from `categorize`
 * (host/node/base/errors.ts, WIN32_ERRORS); this module only adds the Win32 name to
 * the message so a Windows user recognises it.
 */
import { toForgeError, type ForgeError } from '../../node/base/errors.js';

/** Names of the codes the backend meets most (winerror.h). */
const WIN32_NAMES: Readonly<Record<number, string>> = {
  2: 'ERROR_FILE_NOT_FOUND',
  3: 'ERROR_PATH_NOT_FOUND',
  4: 'ERROR_TOO_MANY_OPEN_FILES',
  5: 'ERROR_ACCESS_DENIED',
  6: 'ERROR_INVALID_HANDLE',
  8: 'ERROR_NOT_ENOUGH_MEMORY',
  32: 'ERROR_SHARING_VIOLATION',
  33: 'ERROR_LOCK_VIOLATION',
  38: 'ERROR_HANDLE_EOF',
  80: 'ERROR_FILE_EXISTS',
  87: 'ERROR_INVALID_PARAMETER',
  112: 'ERROR_DISK_FULL',
  123: 'ERROR_INVALID_NAME',
  145: 'ERROR_DIR_NOT_EMPTY',
  183: 'ERROR_ALREADY_EXISTS',
  206: 'ERROR_FILENAME_EXCED_RANGE',
  267: 'ERROR_DIRECTORY',
  995: 'ERROR_OPERATION_ABORTED',
  1022: 'ERROR_NOTIFY_ENUM_DIR',
};

/** `ERROR_ACCESS_DENIED (5)`, or `Win32 error 1234` for codes without a name here. */
export function win32ErrorName(code: number): string {
  const n = WIN32_NAMES[code];
  return n === undefined ? `Win32 error ${code}` : `${n} (${code})`;
}

/** A ForgeError for a failed Win32 call, categorised by its code. */
export function win32Error(code: number, operation: string, file: string | undefined): ForgeError {
  return toForgeError(
    { kind: 'win32', code },
    { operation, backend: 'iocp', ...(file !== undefined ? { file } : {}), win32: code },
    `${operation} failed: ${win32ErrorName(code)}`,
  );
}
