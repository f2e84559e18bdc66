/**
 * The shape every `forge <command>` module exports, and the help text built
 * from it, so `forge <cmd> --help` and usage errors always agree with what
 * the parser accepts.
 */
import type { Writable } from 'node:stream';

/** One option of a command, as node:util parseArgs takes it, plus help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help as `--name <valueName>` for string options. */
  valueName?: string;
  description: string;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'Show help for this command.' },
  debug: { type: 'boolean', description: 'Print stack traces and log at debug level.' },
  root: {
    type: 'string',
    valueName: 'dir',
    description: 'The watched tree (default: the nearest ancestor of the current directory holding .forge/, else the current directory).',
  },
  store: { type: 'string', valueName: 'dir', description: 'The store directory (default: <root>/.forge).' },
  config: { type: 'string', valueName: 'file', description: 'A config file (default: <root>/forge.config.json if present).' },
};

export interface CommandIO {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface CommandContext extends CommandIO {
  values: OptionValues;
  positionals: string[];
  debug: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for `forge --help`. */
  summary: string;
  /** Argument synopsis after `forge <name>`, e.g. `<path> [A] [B]`. */
  args: string;
  /** A paragraph or two for `forge <name> --help`. */
  description: string;
  options: Record<string, OptionSpec>;
  minPositionals: number;
  maxPositionals: number;
  examples: string[];
  /** Runs the command; resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

function optionLabel(name: string, o: OptionSpec): string {
  const short = o.short ? `-${o.short}, ` : '    ';
  const value = o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : '';
  return `  ${short}--${name}${value}`;
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur.length > 0 && cur.length + 1 + w.length > width - indent) {
      lines.push(cur);
      cur = w;
    } else cur = cur.length ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join('\n' + ' '.repeat(indent));
}

/** Renders an option table with aligned descriptions. */
export function renderOptions(options: Record<string, OptionSpec>, width = 100): string {
  const rows = Object.entries(options).map(([n, o]) => [optionLabel(n, o), o.description] as const);
  const col = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, d]) => (l.length + 1 > col ? `${l}\n${' '.repeat(col)}` : l.padEnd(col)) + wrap(d, width, col)).join('\n');
}

/** `forge <cmd> --help`. */
export function renderCommandHelp(spec: CommandSpec): string {
  const parts = [
    `Usage: forge ${spec.name}${spec.args ? ' ' + spec.args : ''} [options]`,
    '',
    spec.summary,
    '',
    spec.description
      .split('\n')
      .map((para) => wrap(para, 100, 0))
      .join('\n\n'),
    '',
    'Options:',
    renderOptions(spec.options),
    '',
    'Global options:',
    renderOptions(GLOBAL_OPTIONS),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
  ];
  return parts.join('\n');
}
