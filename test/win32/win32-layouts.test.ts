// Linux-runnable unit tests of the IOCP backend's pure parts: struct layouts
// against the Windows SDK's documented x64 sizes/offsets (and koffi's own
// layout of the same declarations), FILE_NOTIFY_INFORMATION decoding, record
// translation, and Win32 error mapping. The backend itself runs under Wine
// (`npm run test:windows`) and natively in test/win32/iocp.test.ts.
import fc from 'fast-check';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { layoutTypes } from '../../host/native/win32/kernel32.js';
import { translateRecords } from '../../host/native/win32/rdcw-translate.js';
import { win32Error, win32ErrorName } from '../../host/native/win32/win32-errors.js';
import {
  FILE_NOTIFY_INFORMATION,
  OVERLAPPED,
  OVERLAPPED_ENTRY,
  decodeNotifyRecords,
  encodeNotifyRecords,
  splitOffset,
} from '../../host/native/win32/win32-layouts.js';
import { compileIgnore } from '../../host/node/watch/ignore.js';

describe('Win32 struct layouts (x64)', () => {
  // minwinbase.h / winnt.h, x64: sizeof(OVERLAPPED) == 32, sizeof(OVERLAPPED_ENTRY) == 32,
  // sizeof(FILE_NOTIFY_INFORMATION) == 16 (12-byte header + WCHAR[1], padded to 4).
  it('OVERLAPPED is 32 bytes with Offset at 16, OffsetHigh at 20, hEvent at 24', () => {
    expect(OVERLAPPED).toEqual({ size: 32, internal: 0, internalHigh: 8, offset: 16, offsetHigh: 20, hEvent: 24 });
    const { overlapped } = layoutTypes();
    expect(koffi.sizeof(overlapped)).toBe(OVERLAPPED.size);
    expect(koffi.offsetof(overlapped, 'Offset')).toBe(OVERLAPPED.offset);
    expect(koffi.offsetof(overlapped, 'OffsetHigh')).toBe(OVERLAPPED.offsetHigh);
    expect(koffi.offsetof(overlapped, 'hEvent')).toBe(OVERLAPPED.hEvent);
  });
  it('OVERLAPPED_ENTRY is 32 bytes: key 0, lpOverlapped 8, Internal 16, bytes 24', () => {
    expect(OVERLAPPED_ENTRY).toEqual({ size: 32, completionKey: 0, overlapped: 8, internal: 16, bytesTransferred: 24 });
    const { entry } = layoutTypes();
    expect(koffi.sizeof(entry)).toBe(32);
    expect(koffi.offsetof(entry, 'lpOverlapped')).toBe(8);
    expect(koffi.offsetof(entry, 'Internal')).toBe(16);
    expect(koffi.offsetof(entry, 'dwNumberOfBytesTransferred')).toBe(24);
  });
  it('FILE_NOTIFY_INFORMATION: FileName at 12, sizeof 16', () => {
    const { notify } = layoutTypes();
    expect(koffi.sizeof(notify)).toBe(FILE_NOTIFY_INFORMATION.size);
    expect(koffi.offsetof(notify, 'FileName')).toBe(FILE_NOTIFY_INFORMATION.fileName);
    expect(koffi.offsetof(notify, 'FileNameLength')).toBe(FILE_NOTIFY_INFORMATION.fileNameLength);
  });
  it('splitOffset splits 64-bit offsets into DWORD halves and rejects bad ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (o) => {
        const { low, high } = splitOffset(o);
        return low >= 0 && low < 2 ** 32 && high * 2 ** 32 + low === o;
      }),
      { numRuns: 200 },
    );
    expect(() => splitOffset(-1)).toThrow(RangeError);
    expect(() => splitOffset(1.5)).toThrow(RangeError);
  });
});

const winName = fc.array(fc.constantFrom('a', 'Z', '0', '_', '.', ' ', 'é', '文', '☃', '\\'), { minLength: 1, maxLength: 20 }).map((a) => a.join(''));
const record = fc.record({ action: fc.integer({ min: 1, max: 5 }), name: winName });

describe('FILE_NOTIFY_INFORMATION decoding', () => {
  it('decodes what the kernel layout encodes, for any chain of records (200 runs)', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (recs) => {
        const buf = encodeNotifyRecords(recs);
        expect(decodeNotifyRecords(buf, buf.byteLength)).toEqual(recs);
      }),
      { numRuns: 200 },
    );
  });
  it('decodes unaligned chains as Wine 8 writes them (NextEntryOffset 22 after "a.txt")', () => {
    // Built by hand: header (12) + "a.txt" in UTF-16 (10) = 22, no padding, then "b.txt".
    const b = Buffer.alloc(44);
    b.writeUInt32LE(22, 0);
    b.writeUInt32LE(4, 4);
    b.writeUInt32LE(10, 8);
    b.write('a.txt', 12, 'utf16le');
    b.writeUInt32LE(0, 22);
    b.writeUInt32LE(5, 26);
    b.writeUInt32LE(10, 30);
    b.write('b.txt', 34, 'utf16le');
    expect(decodeNotifyRecords(b, 44)).toEqual([
      { action: 4, name: 'a.txt' },
      { action: 5, name: 'b.txt' },
    ]);
  });
  it('0 bytes (overflow) decodes to nothing; a truncated or corrupt chain never reads past the end', () => {
    const buf = encodeNotifyRecords([
      { action: 1, name: 'abc' },
      { action: 2, name: 'defgh' },
    ]);
    expect(decodeNotifyRecords(buf, 0)).toEqual([]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.nat(250), (junk, n) => {
        const out = decodeNotifyRecords(junk, n);
        for (const r of out) expect(r.name.length * 2).toBeLessThanOrEqual(junk.length);
      }),
      { numRuns: 300 },
    );
    // A record whose name runs past `bytes` is dropped, the complete one before it kept.
    expect(decodeNotifyRecords(buf, buf.byteLength - 4)).toEqual([{ action: 1, name: 'abc' }]);
  });
});

describe('record translation', () => {
  const none = compileIgnore(['!node_modules', '!.git', '!.forge']);
  it('maps actions, joins rename pairs and converts separators', () => {
    expect(
      translateRecords(
        [
          { action: 1, name: 'a.txt' },
          { action: 3, name: 'sub\\b.txt' },
          { action: 4, name: 'old.txt' },
          { action: 5, name: 'dir\\new.txt' },
          { action: 2, name: 'gone' },
        ],
        none,
      ),
    ).toEqual([
      { path: 'a.txt', kind: 'created' },
      { path: 'sub/b.txt', kind: 'modified' },
      { path: 'dir/new.txt', kind: 'renamed', oldPath: 'old.txt' },
      { path: 'gone', kind: 'removed' },
    ]);
  });
  it('an old name without a new one is removed, a new name without an old one created', () => {
    expect(translateRecords([{ action: 4, name: 'x' }], none)).toEqual([{ path: 'x', kind: 'removed' }]);
    expect(translateRecords([{ action: 5, name: 'y' }], none)).toEqual([{ path: 'y', kind: 'created' }]);
    expect(
      translateRecords(
        [
          { action: 4, name: 'x' },
          { action: 1, name: 'z' },
        ],
        none,
      ),
    ).toEqual([
      { path: 'x', kind: 'removed' },
      { path: 'z', kind: 'created' },
    ]);
  });
  it('ignored paths are dropped; a rename into an ignored directory is a removal', () => {
    const ig = compileIgnore(['node_modules']);
    expect(translateRecords([{ action: 1, name: 'node_modules\\x\\i.js' }], ig)).toEqual([]);
    expect(
      translateRecords(
        [
          { action: 4, name: 'a.js' },
          { action: 5, name: 'node_modules\\a.js' },
        ],
        ig,
      ),
    ).toEqual([{ path: 'a.js', kind: 'removed' }]);
    expect(
      translateRecords(
        [
          { action: 4, name: 'node_modules\\a.js' },
          { action: 5, name: 'a.js' },
        ],
        ig,
      ),
    ).toEqual([{ path: 'a.js', kind: 'created' }]);
  });
  it('every record yields at most one change and paths never contain backslashes (200 runs)', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 30 }), (recs) => {
        const out = translateRecords(recs, none);
        expect(out.length).toBeLessThanOrEqual(recs.length);
        for (const c of out) {
          expect(c.path.includes('\\')).toBe(false);
          expect(c.kind === 'renamed').toBe(c.oldPath !== undefined);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Win32 errors', () => {
  it('are categorised by code, with the Win32 name in the message', () => {
    const e = win32Error(2, 'CreateFileW', 'C:\\x');
    expect(e.category).toBe('filesystem');
    expect(e.context).toMatchObject({ code: 'ENOENT', errno: 2, backend: 'iocp', file: 'C:\\x', operation: 'CreateFileW' });
    expect(e.message).toContain('ERROR_FILE_NOT_FOUND (2)');
    expect(win32Error(5, 'x', undefined).context.code).toBe('EACCES');
    expect(win32Error(1460, 'x', undefined).category).toBe('timeout');
    expect(win32ErrorName(424242)).toBe('Win32 error 424242');
    expect(win32Error(424242, 'x', undefined).category).toBe('unknown');
  });
});
