/**
 * Loading the configuration: `forge.config.json` (in `cwd`, or the file given
 * with `--config`), overlaid by `FORGE_*` environment variables, overlaid by CLI
 * flags; then validated (see validate.ts) before anything starts.
 *
 * Precedence: flag > env > file > default. Relative paths in the file are
 * resolved against the file's directory; relative paths from env/flags against `cwd`.
 * Environment values are strings: integers and booleans (`true/false/1/0/yes/no`)
 * are converted, lists are comma-separated or a JSON array. A value that does not
 * convert is kept as given, so the report names it. `FORGE_*` variables that are
 * not config fields (e.g. `FORGE_DEBUG`) are ignored; flags are looked up by field
 * name (`storeDir` or `store-dir`) and other flag keys are ignored (they belong to the CLI).
 * The nested `retry` object's fields are `FORGE_RETRY_MAX_ATTEMPTS` / `--retry-max-attempts` and so on.
 *
 * Everything read from the file goes into objects without a prototype, so a key such as
 * `__proto__`, `constructor` or `toString` is an ordinary unknown key that the report names
 * (exit 78), never a prototype change or a crash.
 *
 * CLI wiring:
 * ```ts
 * const { config } = loadConfigOrExit({ configPath: flags.config, flags });   // exit 78 + report on stderr
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { toForgeError } from '../../base/errors.js';
import { EXIT_CODES } from '../../base/exit-codes.js';
import { CONFIG_FIELDS, FIELD_KIND, NESTED_SECTIONS, PATH_FIELDS, envName, flagName, type ConfigField, type ForgeConfig } from './schema.js';
import { ConfigError, formatConfigIssues, validateConfig, type ConfigIssue, type ValidateOptions } from './validate.js';

export const DEFAULT_CONFIG_FILE = 'forge.config.json';

/** Where {@link loadConfig} reads values from: config file, environment and CLI flags. */
export interface LoadConfigOptions {
  /** `--config` path. When given, the file must exist. */
  configPath?: string;
  /** Where `forge.config.json` is looked for and relative env/flag paths resolve. Default `process.cwd()`. */
  cwd?: string;
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Parsed CLI flags (camelCase or kebab-case keys); `undefined` values are skipped. */
  flags?: Record<string, unknown>;
  /** Required fields (per command). Default `storeDir`, `watchRoot`. */
  required?: ValidateOptions['required'];
  /** Check paths on disk. Default true. */
  checkPaths?: boolean;
}

/** A validated configuration together with where each value came from. */
export interface LoadedConfig {
  config: ForgeConfig;
  /** The config file read, if any. */
  file: string | undefined;
  /** Where each field's value came from: `default`, the file path, `env FORGE_X` or `flag --x`. */
  sources: Record<ConfigField, string>;
}

function convert(field: ConfigField, raw: string): unknown {
  const v = raw.trim();
  switch (FIELD_KIND[field]) {
    case 'int':
      return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : raw;
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(v)) return true;
      if (/^(false|0|no|off)$/i.test(v)) return false;
      return raw;
    case 'list':
      if (v.startsWith('[')) {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return raw;
        }
      }
      return v === '' ? [] : v.split(',').map((s) => s.trim());
    default:
      return raw;
  }
}

function resolvePath(field: string, value: unknown, base: string): unknown {
  return (PATH_FIELDS as readonly string[]).includes(field) && typeof value === 'string' && value !== '' && !isAbsolute(value) ? resolve(base, value) : value;
}

/** An object without a prototype: `__proto__` and `constructor` are plain keys in it. */
function bare(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/** Sets an own property (defineProperty, so `__proto__` stays a key and never becomes the prototype). */
function put(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Sets `retry.maxAttempts` inside `merged.retry` (created bare); a non-object `retry` is left for the report. */
function setField(merged: Record<string, unknown>, field: ConfigField, value: unknown): void {
  const dot = field.indexOf('.');
  if (dot < 0) return put(merged, field, value);
  const section = field.slice(0, dot);
  const current = Object.hasOwn(merged, section) ? merged[section] : undefined;
  if (current !== undefined && !isPlainRecord(current)) return;
  const sub = current ?? bare();
  put(sub as Record<string, unknown>, field.slice(dot + 1), value);
  put(merged, section, sub);
}

/** Reads and merges file, env and flags without validating. Throws ConfigError if the file is unreadable. */
export function mergeConfigSources(opts: LoadConfigOptions = {}): {
  merged: Record<string, unknown>;
  file: string | undefined;
  sources: Record<string, string>;
} {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const merged = bare();
  const sources = bare() as Record<string, string>;
  let file: string | undefined;
  if (opts.configPath !== undefined) file = resolve(cwd, opts.configPath);
  else if (existsSync(join(cwd, DEFAULT_CONFIG_FILE))) file = join(cwd, DEFAULT_CONFIG_FILE);

  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const fe = toForgeError(e, { file, operation: 'read config' });
      throw new ConfigError([{ field: '--config', problem: `${file} cannot be read: ${fe.context.code ?? fe.message}`, valid: 'a readable JSON file' }], file);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch (e) {
      throw new ConfigError(
        [{ field: '(file)', problem: `${file} is not valid JSON: ${(e as Error).message}`, valid: 'a JSON object (see schema/forge.config.schema.json)' }],
        file,
      );
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new ConfigError(
        [{ field: '(file)', problem: `${file} holds ${Array.isArray(doc) ? 'a list' : typeof doc}, not an object`, valid: 'a JSON object' }],
        file,
      );
    }
    for (const [k, v] of Object.entries(doc)) {
      if ((NESTED_SECTIONS as readonly string[]).includes(k) && isPlainRecord(v)) {
        const sub = bare();
        for (const [sk, sv] of Object.entries(v)) {
          put(sub, sk, sv);
          put(sources, `${k}.${sk}`, file);
        }
        put(merged, k, sub);
      } else {
        put(merged, k, resolvePath(k, v, dirname(file)));
      }
      put(sources, k, file);
    }
  }
  for (const f of CONFIG_FIELDS) {
    const name = envName(f);
    const raw = Object.hasOwn(env, name) ? env[name] : undefined;
    if (raw === undefined) continue;
    setField(merged, f, resolvePath(f, convert(f, raw), cwd));
    sources[f] = `env ${name}`;
  }
  const flags = opts.flags ?? {};
  for (const f of CONFIG_FIELDS) {
    const key = Object.hasOwn(flags, f) ? f : Object.hasOwn(flags, flagName(f)) ? flagName(f) : undefined;
    if (key === undefined || flags[key] === undefined) continue;
    const raw = flags[key];
    const v = typeof raw === 'string' ? convert(f, raw) : raw;
    setField(merged, f, resolvePath(f, v, cwd));
    sources[f] = `flag --${flagName(f)}`;
  }
  return { merged, file, sources };
}

/**
 * Loads, merges and validates the configuration. Throws {@link ConfigError}
 * listing every problem.
 *
 * @example
 * ```ts
 * const { config } = loadConfig({ configPath: 'forge.config.json', flags: { logLevel: 'debug' } });
 * ```
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const { merged, file, sources } = mergeConfigSources(opts);
  const r = validateConfig(merged, { required: opts.required, checkPaths: opts.checkPaths, sources });
  if (!r.ok) throw new ConfigError(r.issues, file);
  const all = {} as Record<ConfigField, string>;
  for (const f of CONFIG_FIELDS) all[f] = (Object.hasOwn(sources, f) ? sources[f] : undefined) ?? 'default';
  return { config: r.config, file, sources: all };
}

/** The report printed on a config failure: a headline, one line per issue, what to do. */
export function formatConfigReport(err: ConfigError): string {
  const n = err.issues.length;
  const where = typeof err.context.file === 'string' ? ` (${err.context.file})` : '';
  return [
    `forge: invalid configuration${where}: ${n} problem${n === 1 ? '' : 's'}; nothing was started.`,
    formatConfigIssues(err.issues),
    ...err.suggestions().map((s) => `hint: ${s}`),
  ].join('\n');
}

/**
 * {@link loadConfig}, but on a ConfigError prints the report to stderr and
 * exits 78 (EX_CONFIG) before anything starts. Other errors propagate.
 *
 * @example
 * ```ts
 * const { config } = loadConfigOrExit({ configPath: args.config, flags: { logLevel: args.logLevel } });
 * ```
 */
export function loadConfigOrExit(opts: LoadConfigOptions = {}, io: { stderr?: (text: string) => void; exit?: (code: number) => never } = {}): LoadedConfig {
  try {
    return loadConfig(opts);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    (io.stderr ?? ((t: string) => process.stderr.write(t)))(formatConfigReport(e) + '\n');
    return (io.exit ?? ((c: number) => process.exit(c)))(EXIT_CODES.CONFIG);
  }
}

export type { ConfigIssue };
