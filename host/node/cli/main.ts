/**
 * `forge`: argument parsing (node:util parseArgs), help, and dispatch to one
 * module per command. Command modules are imported only when run, so
 * `forge --help` loads no native code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT_CODES } from '../base/exit-codes.js';
import { GLOBAL_OPTIONS, renderCommandHelp, renderOptions, type CommandIO, type CommandSpec, type OptionSpec } from './command.js';
import { reportError, UsageError } from '../term/output.js';

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandSpec>;
}

/** Every command, in help order. */
export const COMMANDS: Record<string, CommandEntry> = {
  watch: { summary: 'Keep the history of a tree: scan it, then record every change.', load: async () => (await import('./watch.js')).spec },
  log: { summary: 'List recorded versions: of a file, a directory, or the whole tree.', load: async () => (await import('./log.js')).spec },
  ls: { summary: 'List the files of the tree as they were at a time.', load: async () => (await import('./ls.js')).spec },
  restore: { summary: 'Write a past version of a file, or a directory as it was, back (atomically).', load: async () => (await import('./restore.js')).spec },
  diff: { summary: 'Show a unified diff between two versions of a file.', load: async () => (await import('./diff.js')).spec },
  cat: { summary: 'Write an object or a file version to stdout.', load: async () => (await import('./cat.js')).spec },
  verify: { summary: 'Check every object and index row; --repair fixes what it can.', load: async () => (await import('./verify.js')).spec },
  stats: { summary: 'Files, versions, bytes, dedup and compression ratios, I/O backend.', load: async () => (await import('./stats.js')).spec },
  doctor: { summary: 'Check the platform, limits, config and store; print fixes.', load: async () => (await import('./doctor.js')).spec },
  gc: { summary: 'Prune old versions by policy, then remove unreferenced objects.', load: async () => (await import('./gc.js')).spec },
  index: { summary: 'Rebuild a lost or damaged index from the store (forge index rebuild).', load: async () => (await import('./index-cmd.js')).spec },
  remote: { summary: 'Manage remotes (S3-compatible storage): add, list, remove, verify, gc.', load: async () => (await import('./remote.js')).spec },
  push: { summary: 'Upload the history recorded since the last push to a remote.', load: async () => (await import('./push.js')).spec },
  clone: { summary: "Create a store (and the tree) from a host's history on a remote.", load: async () => (await import('./clone.js')).spec },
  pull: { summary: 'Bring a cloned store up to date with its remote.', load: async () => (await import('./pull.js')).spec },
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `forge --help`. */
export function renderMainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    'Usage: forge <command> [options]',
    '',
    'Forge keeps the history of a directory tree in a verified, content-addressed store',
    '(<root>/.forge) and lets you list, diff, restore and check it.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Global options:',
    renderOptions({ ...GLOBAL_OPTIONS, version: { type: 'boolean', short: 'V', description: 'Print the version and exit.' } }),
    '',
    'Examples:',
    '  forge watch ~/project            # record every change under ~/project',
    '  forge log src/index.ts           # versions of a file',
    '  forge restore src/index.ts --version 3',
    '  forge diff src/index.ts          # the last change',
    '  forge verify                     # check every stored object',
    '',
    "Run 'forge <command> --help' for a command's options.",
    'Exit codes: 0 ok, 1 runtime error, 2 forced shutdown, 64 usage, 70 internal, 78 config.',
    '',
  ].join('\n');
}

/** Index of the command name: the first argument that is neither an option nor a global option's value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith('-') || a === '-') return i;
    const name = a.replace(/^--?/, '');
    const spec = a.startsWith('--') ? GLOBAL_OPTIONS[name] : Object.values(GLOBAL_OPTIONS).find((o) => o.short === name);
    if (spec?.type === 'string' && !a.includes('=')) i++; // skip its value
  }
  return -1;
}

function toParseArgsOptions(options: Record<string, OptionSpec>) {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(options)) {
    out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** Turns node:util parseArgs errors into usage errors with the same message. */
function parseOrUsage(args: string[], options: Record<string, OptionSpec>, command?: string) {
  try {
    return parseArgs({ args, options: toParseArgsOptions(options), allowPositionals: true, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((e as Error).message, command);
    throw e;
  }
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the
 * exit code. It never calls process.exit itself, except through `forge watch`'s
 * shutdown coordinator.
 *
 * @example
 * ```ts
 * import { runCli } from 'forge-io/dist/host/node/cli/main.js';
 * process.exitCode = await runCli(['log', 'src/a.ts', '--json']);
 * ```
 */
export async function runCli(argv: string[], io?: Partial<CommandIO>): Promise<number> {
  const cio: CommandIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
  };
  const debug = argv.includes('--debug');
  const pipe = watchForClosedPipe(cio.stdout);
  try {
    const first = commandIndex(argv);
    if (first === -1) {
      // Only options: --help, --version, or nothing at all.
      const { values } = parseOrUsage(argv, { ...GLOBAL_OPTIONS, version: { type: 'boolean', short: 'V', description: '' } });
      if (values['version']) {
        cio.stdout.write(`forge ${version()}\n`);
        return EXIT_CODES.OK;
      }
      if (values['help']) {
        cio.stdout.write(renderMainHelp());
        return EXIT_CODES.OK;
      }
      cio.stderr.write(renderMainHelp());
      return EXIT_CODES.USAGE;
    }
    const name = argv[first]!;
    if (name === 'help') {
      const topic = argv[first + 1];
      if (topic === undefined) {
        cio.stdout.write(renderMainHelp());
        return EXIT_CODES.OK;
      }
      const entry = COMMANDS[topic];
      if (!entry) throw new UsageError(`unknown command '${topic}'`);
      cio.stdout.write(renderCommandHelp(await entry.load()));
      return EXIT_CODES.OK;
    }
    const entry = COMMANDS[name];
    if (!entry) {
      const near = Object.keys(COMMANDS).find((c) => c.startsWith(name.slice(0, 2)));
      throw new UsageError(`unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const spec = await entry.load();
    const rest = [...argv.slice(0, first), ...argv.slice(first + 1)];
    const all = { ...GLOBAL_OPTIONS, ...spec.options };
    const { values, positionals } = parseOrUsage(rest, all, spec.name);
    if (values['help']) {
      cio.stdout.write(renderCommandHelp(spec));
      return EXIT_CODES.OK;
    }
    if (positionals.length < spec.minPositionals) {
      throw new UsageError(`missing argument: forge ${spec.name} ${spec.args}`, spec.name);
    }
    if (positionals.length > spec.maxPositionals) {
      throw new UsageError(`too many arguments: ${positionals.slice(spec.maxPositionals).join(' ')}`, spec.name);
    }
    return await spec.run({ ...cio, values, positionals, debug });
  } catch (e) {
    // A reader that stopped reading (`forge log | head -1`) is not a failure, as for git and coreutils.
    if (pipe.closed() || isClosedPipe(e)) return EXIT_CODES.OK;
    return reportError(e, cio, debug);
  } finally {
    pipe.dispose();
  }
}

function isClosedPipe(e: unknown): boolean {
  const err = e as { code?: unknown; context?: { code?: unknown } } | null;
  const code = err?.code ?? err?.context?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Notices stdout's reader going away (EPIPE): the 'error' event is taken so it cannot crash the
 * process, the command's remaining writes go nowhere, and the exit code is 0. Other stream errors
 * still reach the user.
 */
function watchForClosedPipe(out: CommandIO['stdout']): { closed(): boolean; dispose(): void } {
  let closed = false;
  const onError = (e: unknown): void => {
    if (isClosedPipe(e)) closed = true;
    else process.stderr.write(`forge: cannot write to stdout: ${(e as Error).message}\n`);
  };
  if (typeof out.on !== 'function') return { closed: () => false, dispose: () => undefined };
  out.on('error', onError);
  return {
    closed: () => closed,
    // Left attached while the process lives: a late EPIPE (buffered output) must not crash the exit either.
    dispose: () => undefined,
  };
}
