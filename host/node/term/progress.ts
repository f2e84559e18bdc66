/**
 * Progress for long operations (scan, verify): a redrawn one-line bar on a
 * TTY (files, bytes, rate, ETA), or a plain line every few seconds otherwise,
 * so logs and CI output stay readable.
 */
import { formatBytes, formatDuration } from './output.js';

export interface ProgressOptions {
  /** What is being done, e.g. `scan` or `verify`. */
  label: string;
  /** Where to draw; the bar is drawn only when `isTTY` is true. */
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Total files, if known up front (enables percentage and ETA). */
  totalFiles?: number;
  /** Total bytes, if known (ETA then follows bytes). */
  totalBytes?: number;
  /** Non-TTY: ms between log lines (default 2000). */
  logIntervalMs?: number;
  /** TTY: ms between redraws (default 100). */
  redrawIntervalMs?: number;
  /** Non-TTY sink for the periodic lines (default: write to `stream`). */
  log?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ProgressSnapshot {
  files: number;
  bytes: number;
  elapsedMs: number;
  filesPerSec: number;
  bytesPerSec: number;
  etaMs: number | undefined;
}

/**
 * @example
 * ```ts
 * const p = new Progress({ label: 'scan', stream: process.stderr, totalFiles: 2000 });
 * p.tick(1, 4096);
 * p.done(); // clears the bar
 * ```
 */
export class Progress {
  private files = 0;
  private bytes = 0;
  private readonly start: number;
  private lastDraw = 0;
  private drawn = false;
  private readonly now: () => number;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.tty = opts.stream.isTTY === true;
    // A bar shows at the first tick (a short transfer still shows one); plain lines wait a full interval.
    this.lastDraw = this.tty ? Number.NEGATIVE_INFINITY : this.start;
  }

  setTotals(totalFiles?: number, totalBytes?: number): void {
    if (totalFiles !== undefined) this.opts.totalFiles = totalFiles;
    if (totalBytes !== undefined) this.opts.totalBytes = totalBytes;
  }

  /** Records `files` more files and `bytes` more bytes done; redraws when due. */
  tick(files: number, bytes: number): void {
    this.files += files;
    this.bytes += bytes;
    const t = this.now();
    const interval = this.tty ? (this.opts.redrawIntervalMs ?? 100) : (this.opts.logIntervalMs ?? 2000);
    if (t - this.lastDraw >= interval) {
      this.lastDraw = t;
      this.render();
    }
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = Math.max(1, this.now() - this.start);
    const filesPerSec = (this.files * 1000) / elapsedMs;
    const bytesPerSec = (this.bytes * 1000) / elapsedMs;
    let etaMs: number | undefined;
    const { totalBytes, totalFiles } = this.opts;
    if (totalBytes !== undefined && totalBytes > 0 && bytesPerSec > 0) etaMs = ((totalBytes - this.bytes) * 1000) / bytesPerSec;
    else if (totalFiles !== undefined && filesPerSec > 0) etaMs = ((totalFiles - this.files) * 1000) / filesPerSec;
    if (etaMs !== undefined) etaMs = Math.max(0, etaMs);
    return { files: this.files, bytes: this.bytes, elapsedMs, filesPerSec, bytesPerSec, etaMs };
  }

  /** The status text without the bar. */
  line(): string {
    const s = this.snapshot();
    const total = this.opts.totalFiles !== undefined ? `/${this.opts.totalFiles}` : '';
    const eta = s.etaMs !== undefined ? `, ETA ${formatDuration(s.etaMs)}` : '';
    return `${this.opts.label}: ${s.files}${total} files, ${formatBytes(s.bytes)}, ${Math.round(s.filesPerSec)} files/s, ${formatBytes(Math.round(s.bytesPerSec))}/s${eta}`;
  }

  private render(): void {
    if (!this.tty) {
      (this.opts.log ?? ((l: string) => this.opts.stream.write(l + '\n')))(this.line());
      return;
    }
    const cols = this.opts.stream.columns ?? 80;
    const text = this.line();
    let bar = '';
    const total = this.opts.totalFiles;
    if (total !== undefined && total > 0) {
      const width = Math.max(10, Math.min(30, cols - text.length - 10));
      const frac = Math.min(1, this.files / total);
      const fill = Math.round(frac * width);
      bar = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% `;
    }
    const out = (bar + text).slice(0, cols - 1);
    this.opts.stream.write(`\r${out}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the bar (TTY) so a summary line can follow. */
  done(): ProgressSnapshot {
    if (this.tty && this.drawn) this.opts.stream.write('\r\x1b[K');
    return this.snapshot();
  }
}
