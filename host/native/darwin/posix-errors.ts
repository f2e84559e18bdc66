/**
 * errno values from libc calls → ForgeError. Numbers 1–34 are the same on
 * macOS and Linux; above that they differ, so macOS's are mapped here and
 * Linux's come from LINUX_ERRNO (host/node/base/errors.ts).
 */
import { LINUX_ERRNO, toForgeError, type ForgeError } from '../../node/base/errors.js';

/** <sys/errno.h> on macOS, for the numbers that differ from Linux. */
export const DARWIN_ERRNO: Readonly<Record<number, string>> = {
  35: 'EAGAIN',
  45: 'ENOTSUP',
  48: 'EADDRINUSE',
  54: 'ECONNRESET',
  60: 'ETIMEDOUT',
  61: 'ECONNREFUSED',
  62: 'ELOOP',
  63: 'ENAMETOOLONG',
  66: 'ENOTEMPTY',
  69: 'EDQUOT',
  78: 'ENOSYS',
  89: 'ECANCELED',
};

/** The errno name for `errno` on `platform`. */
export function errnoName(errno: number, platform: NodeJS.Platform = process.platform): string | undefined {
  if (errno >= 1 && errno <= 34) return LINUX_ERRNO[errno];
  return platform === 'darwin' ? DARWIN_ERRNO[errno] : LINUX_ERRNO[errno];
}

/** A ForgeError for a failed libc call, categorised by its errno name. */
export function errnoError(errno: number, operation: string, file: string | undefined, backend = 'kqueue'): ForgeError {
  const code = errnoName(errno);
  const err = Object.assign(new Error(`${operation} failed: ${code ?? `errno ${errno}`}`), { code: code ?? `ERRNO_${errno}`, errno });
  return toForgeError(err, { operation, backend, ...(file !== undefined ? { file } : {}) });
}
