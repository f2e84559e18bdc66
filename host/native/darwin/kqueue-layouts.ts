/**
 * The BSD kqueue ABI as Forge uses it: `struct kevent` (LP64: macOS x86_64
 * and arm64, FreeBSD < 12's layout, and libkqueue's), the EVFILT_VNODE
 * constants, and encoders/decoders over byte views.
 *
 * Pure data, no FFI: unit-tested on Linux (test/darwin/) against the sizes
 * and offsets of <sys/event.h>.
 */

/** struct kevent { uintptr_t ident; int16_t filter; uint16_t flags; uint32_t fflags; intptr_t data; void *udata; } */
export const KEVENT = {
  size: 32,
  ident: 0,
  filter: 8,
  flags: 10,
  fflags: 12,
  data: 16,
  udata: 24,
} as const;

/** struct timespec { time_t tv_sec; long tv_nsec; } (LP64) */
export const TIMESPEC = { size: 16, sec: 0, nsec: 8 } as const;

export const EVFILT_VNODE = -4;

// kevent flags
export const EV_ADD = 0x0001;
export const EV_DELETE = 0x0002;
export const EV_CLEAR = 0x0020;
export const EV_ERROR = 0x4000;
export const EV_EOF = 0x8000;

// EVFILT_VNODE fflags
export const NOTE_DELETE = 0x0001;
export const NOTE_WRITE = 0x0002;
export const NOTE_EXTEND = 0x0004;
export const NOTE_ATTRIB = 0x0008;
export const NOTE_LINK = 0x0010;
export const NOTE_RENAME = 0x0020;
export const NOTE_REVOKE = 0x0040;

/** What every watched descriptor asks for. */
export const VNODE_FFLAGS = NOTE_WRITE | NOTE_EXTEND | NOTE_DELETE | NOTE_RENAME | NOTE_ATTRIB;

/** One kevent record, decoded. `ident` is the descriptor for EVFILT_VNODE. */
export interface KEvent {
  ident: number;
  filter: number;
  flags: number;
  fflags: number;
  data: bigint;
  udata: bigint;
}

/** Writes `ev` as record `index` of a kevent array in `buf`. */
export function encodeKevent(buf: Uint8Array, index: number, ev: KEvent): void {
  const v = new DataView(buf.buffer, buf.byteOffset + index * KEVENT.size, KEVENT.size);
  v.setBigUint64(KEVENT.ident, BigInt(ev.ident), true);
  v.setInt16(KEVENT.filter, ev.filter, true);
  v.setUint16(KEVENT.flags, ev.flags, true);
  v.setUint32(KEVENT.fflags, ev.fflags >>> 0, true);
  v.setBigInt64(KEVENT.data, ev.data, true);
  v.setBigUint64(KEVENT.udata, ev.udata, true);
}

/** Reads record `index` of a kevent array in `buf`. */
export function decodeKevent(buf: Uint8Array, index: number): KEvent {
  const v = new DataView(buf.buffer, buf.byteOffset + index * KEVENT.size, KEVENT.size);
  return {
    ident: Number(v.getBigUint64(KEVENT.ident, true)),
    filter: v.getInt16(KEVENT.filter, true),
    flags: v.getUint16(KEVENT.flags, true),
    fflags: v.getUint32(KEVENT.fflags, true),
    data: v.getBigInt64(KEVENT.data, true),
    udata: v.getBigUint64(KEVENT.udata, true),
  };
}

/** What a watcher does about one EVFILT_VNODE event. */
export interface VnodeAction {
  /** A directory's listing changed: list it again and diff. */
  rescanDirectory: boolean;
  /** A file's content or metadata changed. */
  modified: boolean;
  /** The vnode was deleted, renamed or revoked: drop its watch (the parent's rescan reports where it went). */
  gone: boolean;
}

/**
 * Translates an EVFILT_VNODE event on a directory or a file.
 * - directory NOTE_WRITE (entries added/removed/renamed inside) → rescan it;
 * - file NOTE_WRITE/NOTE_EXTEND/NOTE_ATTRIB → modified;
 * - NOTE_DELETE/NOTE_RENAME/NOTE_REVOKE, or EV_EOF → gone.
 */
export function vnodeAction(fflags: number, flags: number, isDirectory: boolean): VnodeAction {
  const gone = (fflags & (NOTE_DELETE | NOTE_RENAME | NOTE_REVOKE)) !== 0 || (flags & EV_EOF) !== 0;
  if (isDirectory) return { rescanDirectory: (fflags & NOTE_WRITE) !== 0, modified: false, gone };
  const modified = (fflags & (NOTE_WRITE | NOTE_EXTEND | NOTE_ATTRIB)) !== 0 && (fflags & NOTE_DELETE) === 0;
  return { rescanDirectory: false, modified, gone };
}
