/**
 * `forge watch [dir]`: validates the configuration (file, FORGE_* env, flags;
 * exit 78 listing every problem), then runs the daemon (host/node/daemon).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandSpec, CommandContext } from './command.js';
import { STORE_DIR_NAME } from './paths.js';

/** The config flags `forge watch` takes, named as in the config reference (kebab-case). */
const CONFIG_FLAGS = {
  'debounce-ms': { type: 'string', valueName: 'ms', description: 'Coalescing window for changes (default 100).' },
  ignore: {
    type: 'string',
    multiple: true,
    valueName: 'glob',
    description: 'Also ignore this name or glob (repeatable; node_modules, .git and .forge are always ignored).',
  },
  'io-backend': { type: 'string', valueName: 'name', description: 'auto (default), io_uring, fallback (also FORGE_IO_BACKEND).' },
  'log-level': { type: 'string', valueName: 'level', description: 'trace, debug, info (default), warn, error.' },
  'log-file': { type: 'string', valueName: 'file', description: 'Write JSON logs to <file> (rotated) instead of stderr.' },
  'metrics-address': { type: 'string', valueName: 'host:port', description: 'Metrics endpoint (default 127.0.0.1:9464; port 0 picks a free port).' },
  'no-metrics': { type: 'boolean', description: 'Do not serve metrics.' },
  'max-file-handles': { type: 'string', valueName: 'n', description: 'Open file handle budget (default 1024).' },
  'pool-size': { type: 'string', valueName: 'n', description: 'SQLite connection pool size (default 4).' },
  'shutdown-timeout-ms': { type: 'string', valueName: 'ms', description: 'Graceful shutdown budget before a forced exit 2 (default 30000).' },
} as const;

/** Builds the flag record the config loader takes (camelCase keys, undefined skipped). */
function configFlags(ctx: CommandContext, root: string | undefined, storeDir: string | undefined): Record<string, unknown> {
  const v = ctx.values;
  const flags: Record<string, unknown> = {
    watchRoot: root,
    storeDir,
    debounceMs: v['debounce-ms'],
    ignore: Array.isArray(v['ignore']) ? v['ignore'] : undefined,
    ioBackend: v['io-backend'],
    logLevel: v['log-level'] ?? (ctx.debug ? 'debug' : undefined),
    logFile: v['log-file'],
    metricsAddress: v['metrics-address'],
    metricsEnabled: v['no-metrics'] === true ? false : undefined,
    maxFileHandles: v['max-file-handles'],
    poolSize: v['pool-size'],
    shutdownTimeoutMs: v['shutdown-timeout-ms'],
  };
  for (const k of Object.keys(flags)) if (flags[k] === undefined) delete flags[k];
  return flags;
}

/**
 * The configuration `forge watch` would run with: forge.config.json (in the
 * tree or the current directory, or --config), FORGE_* variables, flags; the
 * root defaults to the current directory and the store to <root>/.forge.
 * Throws ConfigError listing every problem.
 */
export async function resolveWatchConfig(ctx: CommandContext): Promise<import('../runtime/config/index.js').LoadedConfig> {
  const { loadConfig, mergeConfigSources, DEFAULT_CONFIG_FILE } = await import('../runtime/config/index.js');
  const dirArg = ctx.positionals[0];
  const rootFlag = typeof ctx.values['root'] === 'string' ? ctx.values['root'] : undefined;
  if (dirArg !== undefined && rootFlag !== undefined && path.resolve(ctx.cwd, dirArg) !== path.resolve(ctx.cwd, rootFlag)) {
    const { UsageError } = await import('../term/output.js');
    throw new UsageError('give the directory either as [dir] or as --root, not both', 'watch');
  }
  const rootGiven = dirArg ?? rootFlag;
  const storeFlag = typeof ctx.values['store'] === 'string' ? path.resolve(ctx.cwd, ctx.values['store']) : undefined;
  let configPath = typeof ctx.values['config'] === 'string' ? ctx.values['config'] : undefined;
  if (configPath === undefined && rootGiven !== undefined) {
    const inRoot = path.join(path.resolve(ctx.cwd, rootGiven), DEFAULT_CONFIG_FILE);
    if (existsSync(inRoot)) configPath = inRoot;
  }
  const base = {
    cwd: ctx.cwd,
    env: ctx.env,
    ...(configPath !== undefined ? { configPath } : {}),
    flags: configFlags(ctx, rootGiven !== undefined ? path.resolve(ctx.cwd, rootGiven) : undefined, storeFlag),
  };
  const { merged } = mergeConfigSources(base);
  if (merged['watchRoot'] === undefined) base.flags['watchRoot'] = path.resolve(ctx.cwd);
  if (merged['storeDir'] === undefined) {
    base.flags['storeDir'] = path.join(String(merged['watchRoot'] ?? base.flags['watchRoot']), STORE_DIR_NAME);
  }
  return loadConfig(base);
}

export const spec: CommandSpec = {
  name: 'watch',
  summary: 'Keep the history of a tree: scan it, then record every change.',
  args: '[dir]',
  description: [
    'Records every file under <dir> (default: the current directory) in a content-addressed store, then watches the tree and records each change as a new version, until SIGINT (Ctrl-C) or SIGTERM stops it gracefully (exit 0).',
    'The store is <dir>/.forge (objects/ and index.db) unless --store or storeDir says otherwise. On a restart, changes made while it was down are found and recorded first.',
    'Configuration: forge.config.json in <dir> or the current directory (or --config), FORGE_* variables, then these flags; an invalid configuration is reported in full and exits 78.',
    `Prints "forge: ready: watching …" on stdout once the scan is done and every change is being recorded.`,
  ].join('\n'),
  options: {
    ...CONFIG_FLAGS,
    once: { type: 'boolean', description: 'Scan (or catch up), print the summary and exit without watching.' },
    push: {
      type: 'string',
      valueName: 'remote',
      description: 'Also push to this remote (see `forge remote`) after recording, every --push-interval; an outage never stops recording.',
    },
    'push-interval': { type: 'string', valueName: 'time', description: 'Time between pushes with --push, e.g. 30s (default), 5m.' },
    'log-format': {
      type: 'string',
      valueName: 'json|human',
      description: 'Log records on stderr: human lines (default on a terminal) or JSON (default otherwise).',
    },
  },
  minPositionals: 0,
  maxPositionals: 1,
  examples: [
    'forge watch                         # this directory, store in ./.forge',
    'forge watch ~/project --ignore "*.log" --ignore dist',
    'forge watch . --metrics-address 127.0.0.1:0 --log-file /var/log/forge.log',
    'FORGE_DEBOUNCE_MS=50 forge watch src',
  ],
  async run(ctx) {
    const { ConfigError, formatConfigReport } = await import('../runtime/config/index.js');
    const { EXIT_CODES } = await import('../base/exit-codes.js');
    let config;
    let sources;
    try {
      ({ config, sources } = await resolveWatchConfig(ctx));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.stderr.write(formatConfigReport(e) + '\n');
      return EXIT_CODES.CONFIG;
    }
    const { pushOption } = await import('./remote.js');
    const push = pushOption(ctx);
    const { runDaemon } = await import('../daemon/daemon.js');
    return runDaemon({
      config,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      once: ctx.values['once'] === true,
      debug: ctx.debug,
      ...(ctx.values['log-format'] === 'json' || ctx.values['log-format'] === 'human' ? { logFormat: ctx.values['log-format'] } : {}),
      metricsAddressConfigured: sources.metricsAddress !== 'default',
      ...(push ? { push } : {}),
    });
  },
};
