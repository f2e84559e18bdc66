/**
 * How the CLI reports failures: the ForgeError message and its suggestions,
 * without a stack trace unless --debug; and which exit code each failure gets.
 */
import { ForgeError, toForgeError } from '../base/errors.js';
import { EXIT_CODES } from '../base/exit-codes.js';

/** A bad command line: unknown option, missing argument, bad value. Exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage to point at, if known. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** The exit code for a failure. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_CODES.USAGE;
  if (err instanceof ForgeError) return err.category === 'configuration' ? EXIT_CODES.CONFIG : EXIT_CODES.RUNTIME;
  // System errors (errno codes) are runtime failures; anything else is a bug in Forge.
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') return EXIT_CODES.RUNTIME;
  return EXIT_CODES.INTERNAL;
}

/** Prints a failure to stderr and returns its exit code. */
export function reportError(err: unknown, io: { stderr: NodeJS.WritableStream }, debug: boolean): number {
  const code = exitCodeFor(err);
  const out = io.stderr;
  if (err instanceof UsageError) {
    out.write(`forge: ${err.message}\n`);
    out.write(`Run 'forge ${err.command ? err.command + ' ' : ''}--help' for usage.\n`);
    return code;
  }
  const fe = toForgeError(err);
  out.write(`forge: error: ${fe.message}\n`);
  const detail = fe.context;
  const facts: string[] = [];
  if (detail.file !== undefined && !fe.message.includes(String(detail.file))) facts.push(`file: ${detail.file}`);
  if (detail.code !== undefined) facts.push(`code: ${detail.code}`);
  if (facts.length) out.write(`  (${facts.join(', ')}; category: ${fe.category})\n`);
  // A bug gets no category hints: they would send the user after damage that is not there.
  if (code !== EXIT_CODES.INTERNAL) for (const s of fe.suggestions()) out.write(`  hint: ${s}\n`);
  if (debug) {
    out.write(`\n${err instanceof Error ? (err.stack ?? String(err)) : String(err)}\n`);
    let cause = err instanceof Error ? err.cause : undefined;
    while (cause instanceof Error) {
      out.write(`Caused by: ${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  } else if (code === EXIT_CODES.INTERNAL) {
    out.write('  (this looks like a bug in Forge; re-run with --debug for the stack trace)\n');
  }
  return code;
}

/** Formats a byte count for humans: 1.5 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Formats a duration in ms for humans: 850 ms, 12.3 s, 4m05s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${sec}s`;
}

/** A simple aligned text table. */
export function renderTable(header: string[], rows: string[][], alignRight: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (alignRight[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
