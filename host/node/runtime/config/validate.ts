/**
 * Validation of a merged configuration: the zod schema (types, ranges, enums,
 * host:port), required fields, then filesystem checks (paths exist and are
 * accessible). Every problem is collected — never only the first — each with
 * its field, the problem and the valid range.
 *
 * @example
 * ```ts
 * const r = validateConfig({ storeDir: '/data/forge', watchRoot: '/src', debounceMs: -1 });
 * if (!r.ok) console.error(formatConfigIssues(r.issues));
 * ```
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ForgeError } from '../../base/errors.js';
import { parseHostPort, isLoopbackHost } from '../metrics-server.js';
import { CONFIG_FIELDS, ForgeConfigSchema, RETRY_DEFAULTS, validRange, type ConfigField, type ForgeConfig } from './schema.js';

/** One problem found in a configuration: the field, what is wrong, and what would be valid. */
export interface ConfigIssue {
  /** The field (`storeDir`), or `(root)` for the whole document. */
  field: string;
  /** What is wrong, with the offending value. */
  problem: string;
  /** What would be accepted: the valid range, set or form. */
  valid: string;
  /** Where the value came from, when known. */
  source?: string;
}

/** The outcome of {@link validateConfig}: the config, or every issue found. */
export type ValidationResult = { ok: true; config: ForgeConfig } | { ok: false; issues: ConfigIssue[] };

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /** Fields that must be present. Default `storeDir`, `watchRoot`. */
  required?: readonly ConfigField[];
  /** Check that paths exist/are accessible. Default true. */
  checkPaths?: boolean;
  /** Source of each field (file path, env var, flag) for the report. */
  sources?: Partial<Record<string, string>>;
}

/** The error thrown for an invalid configuration: category `configuration`, exit 78. */
export class ConfigError extends ForgeError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], file?: string) {
    super('configuration', `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${formatConfigIssues(issues)}`, {
      context: { operation: 'loadConfig', code: 'ERR_FORGE_CONFIG', ...(file ? { file } : {}), issues },
      suggestions: [
        'Fix every listed field in forge.config.json, the FORGE_* variables or the flags, then start again.',
        'Editors can check the file against schema/forge.config.schema.json (set "$schema").',
      ],
    });
    this.issues = issues;
  }
}

/** One line per issue: `  - field: problem (valid: …) [from source]`. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  - ${i.field}: ${i.problem} (valid: ${i.valid})${i.source ? ` [from ${i.source}]` : ''}`).join('\n');
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'a null value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number' && !Number.isInteger(v)) return 'a fractional number';
  return `a ${typeof v}`;
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  expected?: string;
}

function problemOf(issue: ZodIssueLike, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? 'is missing' : `${show(value)} is ${typeName(value)}, expected ${issue.expected}`;
    case 'too_small':
    case 'too_big':
      return typeof value === 'string' ? `${show(value)} is empty` : `${show(value)} is out of range`;
    case 'invalid_value':
      return `${show(value)} is not an allowed value`;
    case 'invalid_format':
    case 'custom':
      return `${show(value)} is not well-formed`;
    default:
      return `${show(value)}: ${issue.message}`;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A copy of the input's own enumerable keys in objects without a prototype (one level of
 * nesting, for `retry`), so nothing inherited is read and `__proto__` is just an unknown key.
 */
function ownCopy(x: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(x)) {
    Object.defineProperty(out, k, { value: depth === 0 && isObject(v) ? ownCopy(v, 1) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The value of `field` (`retry.maxAttempts` reads the nested object), own properties only. */
function valueAt(input: Record<string, unknown>, field: string): unknown {
  const dot = field.indexOf('.');
  if (dot < 0) return Object.hasOwn(input, field) ? input[field] : undefined;
  const sub = valueAt(input, field.slice(0, dot));
  return isObject(sub) ? valueAt(sub, field.slice(dot + 1)) : undefined;
}

/** The report's field name for a zod issue path: `retry.maxAttempts` for the nested object. */
function fieldOf(path: PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path[0] === 'retry' && path.length > 1 ? `retry.${String(path[1])}` : String(path[0]);
}

/**
 * Runs all checks and returns every issue (one per field at most), or the config with defaults.
 *
 * @example
 * ```ts
 * const r = validateConfig({ storeDir: '.forge', watchRoot: '.', debounceMs: 100 });
 * if (r.ok) start(r.config); else for (const i of r.issues) console.error(`${i.field}: ${i.problem} (valid: ${i.valid})`);
 * ```
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): ValidationResult {
  const required = opts.required ?? ['storeDir', 'watchRoot'];
  const src = (f: string): { source?: string } => {
    const s = opts.sources && Object.hasOwn(opts.sources, f) ? opts.sources[f] : undefined;
    return s ? { source: s } : {};
  };
  const byField = new Map<string, ConfigIssue>();
  const add = (field: string, problem: string): void => {
    const prev = byField.get(field);
    if (prev) {
      if (!prev.problem.includes(problem)) prev.problem += `; ${problem}`;
    } else byField.set(field, { field, problem, valid: validRange(field), ...src(field) });
  };
  if (!isObject(raw)) {
    return {
      ok: false,
      issues: [{ field: '(root)', problem: `the configuration is ${typeName(raw)}, not an object`, valid: 'a JSON object' }],
    };
  }
  const input = ownCopy(raw);
  // Requirement is per command (e.g. `forge cat` needs no watchRoot), so the schema
  // is applied with storeDir/watchRoot optional and requirement checked here.
  const schema = ForgeConfigSchema.partial({ storeDir: true, watchRoot: true });
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues as unknown as ZodIssueLike[]) {
      if (issue.code === 'unrecognized_keys') {
        const prefix = issue.path.length > 0 ? `${issue.path.map(String).join('.')}.` : '';
        for (const k of issue.keys ?? []) {
          const f = prefix + k;
          byField.set(f, { field: f, problem: 'is not a known field', valid: validRange(f), ...src(f) });
        }
        continue;
      }
      const field = fieldOf(issue.path);
      add(field, problemOf(issue, valueAt(input, field)));
    }
  }
  for (const f of required) if (valueAt(input, f) === undefined) add(f, 'is required but missing');

  const data = parsed.success ? parsed.data : undefined;
  // Cross-field and filesystem checks for fields that passed the schema.
  const okValue = (f: ConfigField): unknown => (byField.has(f) ? undefined : valueAt(input, f));
  // The default base counts too: `{"retry": {"maxDelayMs": 50}}` alone is below 100.
  const base = byField.has('retry.baseDelayMs') ? undefined : (valueAt(input, 'retry.baseDelayMs') ?? RETRY_DEFAULTS.baseDelayMs);
  const cap = okValue('retry.maxDelayMs');
  if (typeof base === 'number' && typeof cap === 'number' && cap < base) {
    add('retry.maxDelayMs', `${cap} is below retry.baseDelayMs (${base})`);
  }
  const addr = okValue('metricsAddress');
  if (typeof addr === 'string') {
    const hp = parseHostPort(addr);
    const allow = valueAt(input, 'metricsAllowRemote') === true;
    if (hp && !isLoopbackHost(hp.host) && !allow) add('metricsAddress', `${show(addr)} is not a loopback address and metricsAllowRemote is false`);
  }
  if (opts.checkPaths ?? true) {
    const watchRoot = okValue('watchRoot');
    if (typeof watchRoot === 'string') {
      const p = checkDir(watchRoot, constants.R_OK | constants.X_OK, false);
      if (p) add('watchRoot', `${show(watchRoot)} ${p}`);
    }
    const storeDir = okValue('storeDir');
    if (typeof storeDir === 'string') {
      const p = checkDir(storeDir, constants.R_OK | constants.W_OK | constants.X_OK, true);
      if (p) add('storeDir', `${show(storeDir)} ${p}`);
    }
    const logFile = okValue('logFile');
    if (typeof logFile === 'string') {
      const p = checkLogFile(logFile);
      if (p) add('logFile', `${show(logFile)} ${p}`);
    }
  }
  if (byField.size > 0 || !data) {
    const order = (f: string): number => {
      const i = CONFIG_FIELDS.indexOf(f as ConfigField);
      return i < 0 ? CONFIG_FIELDS.length : i;
    };
    return { ok: false, issues: [...byField.values()].sort((a, b) => order(a.field) - order(b.field)) };
  }
  const { $schema: _ignored, ...config } = data;
  return { ok: true, config: config as ForgeConfig };
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? 'error';
}

/** Returns a problem text, or undefined if the directory is usable. */
function checkDir(path: string, mode: number, mayCreate: boolean): string | undefined {
  const abs = resolve(path);
  try {
    const st = statSync(abs);
    if (!st.isDirectory()) return 'is not a directory';
    accessSync(abs, mode);
    return undefined;
  } catch (e) {
    const code = errCode(e);
    if (code === 'EACCES' || code === 'EPERM') return `is not accessible (${code}): need ${modeText(mode)}`;
    if (code !== 'ENOENT') return `cannot be checked (${code})`;
    if (!mayCreate) return 'does not exist';
  }
  // Missing but creatable: the nearest existing ancestor must be a writable directory.
  let dir = dirname(abs);
  for (;;) {
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) return `does not exist and cannot be created (${dir} is not a directory)`;
      accessSync(dir, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (e) {
      const code = errCode(e);
      if (code !== 'ENOENT') return `does not exist and cannot be created in ${dir} (${code})`;
      const up = dirname(dir);
      if (up === dir) return 'does not exist and no parent exists';
      dir = up;
    }
  }
}

function checkLogFile(path: string): string | undefined {
  const abs = resolve(path);
  try {
    const st = statSync(abs);
    if (st.isDirectory()) return 'is a directory, not a file';
    accessSync(abs, constants.W_OK);
  } catch (e) {
    const code = errCode(e);
    if (code !== 'ENOENT') return `is not writable (${code})`;
  }
  const dir = dirname(abs);
  try {
    if (!statSync(dir).isDirectory()) return `cannot be created: ${dir} is not a directory`;
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    const code = errCode(e);
    return code === 'ENOENT' ? `cannot be created: directory ${dir} does not exist` : `cannot be created in ${dir} (${code})`;
  }
}

function modeText(mode: number): string {
  const parts: string[] = [];
  if (mode & constants.R_OK) parts.push('read');
  if (mode & constants.W_OK) parts.push('write');
  if (mode & constants.X_OK) parts.push('search');
  return parts.join('+') + ' permission';
}
