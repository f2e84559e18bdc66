/**
 * Log records for a person at a terminal: one short line each (time, level, message, key fields),
 * coloured when the terminal supports it and NO_COLOR is not set. Stacks only when asked (--debug);
 * the JSON records themselves go to the log file, or to stderr when it is not a terminal.
 */
import type { LogSink } from './log-sink.js';

/** Fields a person does not need on every line. */
const HIDDEN = new Set(['level', 'timestamp', 'pid', 'message', 'component', 'stack', 'context', 'suggestions', 'retryable', 'cause', 'err']);
const COLOURS: Record<string, string> = { trace: '90', debug: '90', info: '36', warn: '33', error: '31', fatal: '35' };

export interface HumanLogOptions {
  /** Where lines go (default: fd 2 through process.stderr). */
  write?: (line: string) => void;
  /** Colour (default: stderr is a TTY, NO_COLOR unset, TERM not dumb). */
  color?: boolean;
  /** Include stacks (default false). */
  stacks?: boolean;
}

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Formats one JSON record as a human line (exported for tests). */
export function humanLine(json: string, color: boolean, stacks: boolean): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const level = String(r['level'] ?? 'info');
  const time = typeof r['timestamp'] === 'string' ? r['timestamp'].slice(11, 19) : '';
  const tag = level.toUpperCase().padEnd(5);
  const fields = Object.entries(r)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' ');
  const lvl = color ? `\x1b[${COLOURS[level] ?? '0'}m${tag}\x1b[0m` : tag;
  let line = `${time} ${lvl} ${String(r['message'] ?? '')}${fields ? (color ? ` \x1b[90m${fields}\x1b[0m` : ` ${fields}`) : ''}\n`;
  if (stacks && typeof r['stack'] === 'string') line += r['stack'] + '\n';
  return line;
}

/** Whether stderr wants colour. */
export function stderrColor(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stderr.isTTY === true && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
}

/** A log sink that writes human lines. */
export function humanSink(opts: HumanLogOptions = {}): LogSink {
  const write = opts.write ?? ((l: string) => void process.stderr.write(l));
  const color = opts.color ?? stderrColor();
  const stacks = opts.stacks ?? false;
  return {
    write: (line: string) => {
      for (const one of line.split('\n')) if (one !== '') write(humanLine(one, color, stacks));
    },
  };
}
