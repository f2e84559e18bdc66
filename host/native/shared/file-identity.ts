/**
 * What every backend's safe read shares about the file it opened: st_mode kinds, and when two
 * looks at one descriptor say the content may have moved under the read.
 */
import type { FileIdentity } from '../../node/base/platform-io.js';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** What a non-regular st_mode is, for the ENOTREG message. */
export function kindOfMode(mode: number): string {
  switch (mode & S_IFMT) {
    case 0o010000:
      return 'a FIFO';
    case 0o140000:
      return 'a socket';
    case 0o020000:
    case 0o060000:
      return 'a device';
    case S_IFDIR:
      return 'a directory';
    case S_IFLNK:
      return 'a symbolic link';
    default:
      return 'not a regular file';
  }
}

/** True when st_mode says a regular file. */
export function isRegularMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFREG;
}

/** True when two identities of one descriptor say the content may differ. */
export function identityMoved(a: FileIdentity, b: FileIdentity): boolean {
  return a.size !== b.size || a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs;
}
