/**
 * A synchronous, size-rotating log file.
 *
 * Why not pino-roll: pino-roll rolls *after* a write has pushed the file to or
 * past its size, so a file can exceed the limit; Forge promises the opposite
 * (design Property 20). This sink checks *before* each write and rotates first.
 *
 * Layout: the active file is `<file>`; rotated files are `<file>.1`, `<file>.2`,
 * … (a higher number is newer). Files that already exist when the sink opens
 * count: the active file's size counts toward the limit, and numbering continues
 * after the highest existing `<file>.N`. At most `maxFiles` rotated files are kept;
 * older ones are deleted and reported through `onRotate`.
 *
 * Writes are synchronous (`fs.writeSync`), so nothing is buffered in the process:
 * every line the logger accepted is in the kernel before the call returns, which
 * is what makes "logs are flushed on every exit path" true even for
 * `process.exit()` and crashes. The one bound: a single record larger than the
 * limit is written alone into a fresh file (the only way a file exceeds it).
 *
 * @example
 * ```ts
 * const sink = RotatingFileSink.open({ file: '/var/log/forge.log', maxBytes: 100 * 1024 * 1024 });
 * sink.write('{"message":"hi"}\n');
 * sink.close();
 * ```
 */
import { closeSync, fstatSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ForgeError, toForgeError } from '../base/errors.js';

export interface RotatingFileOptions {
  /** The active log file. Its directory must exist. */
  file: string;
  /** Rotate before a write would make the file larger than this many bytes. Default 100 MiB. */
  maxBytes?: number;
  /** How many rotated files to keep (oldest deleted first). Default 10. */
  maxFiles?: number;
  /** Called after each rotation with the new archive's path and the archives deleted. */
  onRotate?: (info: { archived: string; deleted: string[] }) => void;
}

export const DEFAULT_ROTATE_BYTES = 100 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 10;

export class RotatingFileSink {
  readonly file: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  private fd: number;
  private size: number;
  private lastNumber: number;
  private closed = false;
  private readonly onRotate: RotatingFileOptions['onRotate'];

  private constructor(opts: Required<Omit<RotatingFileOptions, 'onRotate'>> & Pick<RotatingFileOptions, 'onRotate'>) {
    this.file = opts.file;
    this.maxBytes = opts.maxBytes;
    this.maxFiles = opts.maxFiles;
    this.onRotate = opts.onRotate;
    this.lastNumber = Math.max(0, ...RotatingFileSink.archiveNumbers(opts.file));
    try {
      this.fd = openSync(this.file, 'a');
    } catch (e) {
      throw toForgeError(e, { file: this.file, operation: 'open log file' });
    }
    this.size = fstatSync(this.fd).size;
  }

  /** Opens (or continues) the log file; counts the files that already exist. */
  static open(opts: RotatingFileOptions): RotatingFileSink {
    const maxBytes = opts.maxBytes ?? DEFAULT_ROTATE_BYTES;
    const maxFiles = opts.maxFiles ?? DEFAULT_LOG_MAX_FILES;
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new ForgeError('configuration', `log rotation size must be a positive integer number of bytes, got ${maxBytes}`);
    }
    if (!Number.isInteger(maxFiles) || maxFiles < 1) {
      throw new ForgeError('configuration', `log maxFiles must be a positive integer, got ${maxFiles}`);
    }
    return new RotatingFileSink({ file: opts.file, maxBytes, maxFiles, onRotate: opts.onRotate });
  }

  /** The numbers N of existing `<file>.N` archives, ascending. */
  static archiveNumbers(file: string): number[] {
    const base = basename(file);
    let names: string[];
    try {
      names = readdirSync(dirname(file));
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const n of names) {
      if (!n.startsWith(base + '.')) continue;
      const rest = n.slice(base.length + 1);
      if (/^[1-9][0-9]*$/.test(rest)) out.push(Number(rest));
    }
    return out.sort((a, b) => a - b);
  }

  /** Bytes in the active file (including what was there before this sink opened it). */
  get currentSize(): number {
    return this.size;
  }

  /** Lines that could not be written (disk full, fd gone); reported on stderr when the first one is lost. */
  dropped = 0;
  /** Rotations that failed (the file then keeps growing past the limit; each failure is logged into it). */
  rotationFailures = 0;

  /**
   * Writes one chunk (a log line); rotates first if it would overflow the limit.
   * Never throws: a logging call must not take the process down.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this.closed) return false;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.size > 0 && this.size + buf.length > this.maxBytes) {
      try {
        this.rotate();
      } catch (e) {
        this.rotationFailures++;
        this.reopenAfterFailedRotation();
        const note = JSON.stringify({
          level: 'error',
          timestamp: new Date().toISOString(),
          pid: process.pid,
          category: 'filesystem',
          message: `log rotation of ${this.file} failed: ${(e as Error).message}; the file grows past ${this.maxBytes} bytes`,
          context: { file: this.file, operation: 'rotate log', code: (e as { code?: string }).code },
          suggestions: ['Check the log directory: free space, permissions, and that nothing else renames the files.'],
        });
        this.rawWrite(Buffer.from(note + '\n'));
      }
    }
    return this.rawWrite(buf);
  }

  private rawWrite(buf: Uint8Array): boolean {
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.size += buf.length;
      return true;
    } catch (e) {
      if (this.dropped++ === 0) {
        process.stderr.write(`forge: cannot write log file ${this.file} (${(e as { code?: string }).code ?? String(e)}); log lines are being lost\n`);
      }
      return false;
    }
  }

  /** After a failed rotation the fd may be closed: make sure there is an open one. */
  private reopenAfterFailedRotation(): void {
    try {
      fstatSync(this.fd);
    } catch {
      try {
        this.fd = openSync(this.file, 'a');
        this.size = fstatSync(this.fd).size;
      } catch {
        // rawWrite reports the loss.
      }
    }
  }

  /** Rotates now: the active file becomes `<file>.N+1`, a new empty one is opened. */
  rotate(): void {
    closeSync(this.fd);
    const archived = `${this.file}.${++this.lastNumber}`;
    renameSync(this.file, archived);
    this.fd = openSync(this.file, 'a');
    this.size = 0;
    const deleted: string[] = [];
    const nums = RotatingFileSink.archiveNumbers(this.file);
    for (const n of nums.slice(0, Math.max(0, nums.length - this.maxFiles))) {
      const p = join(dirname(this.file), `${basename(this.file)}.${n}`);
      try {
        unlinkSync(p);
        deleted.push(p);
      } catch {
        // Already gone (another process pruned it): nothing to report.
      }
    }
    this.onRotate?.({ archived, deleted });
  }

  /** Data is already in the kernel after write(); this also asks for durability. */
  flushSync(): void {
    if (this.closed) return;
    try {
      fsyncSync(this.fd);
    } catch {
      // fsync is best effort (e.g. not supported on some pseudo filesystems).
    }
  }

  /** pino's `logger.flush(cb)` calls this. */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  close(): void {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by a failed rotation: nothing left to release.
    }
  }
}
