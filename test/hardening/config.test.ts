import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_FIELDS, RANGES, configJsonSchema, validRange } from '../../host/node/runtime/config/schema.js';
import { validateConfig, ConfigError } from '../../host/node/runtime/config/validate.js';
import { loadConfig, loadConfigOrExit } from '../../host/node/runtime/config/load.js';
import { EXIT_CODES } from '../../host/node/base/exit-codes.js';
import { ensureDist, FIXTURES, ROOT } from './dist.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'forge-cfg-'));
  mkdirSync(join(tmp, 'root'));
  writeFileSync(join(tmp, 'file.txt'), 'not a directory');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function validBase(): Record<string, unknown> {
  return {
    storeDir: join(tmp, 'store'), // missing but creatable
    watchRoot: join(tmp, 'root'),
    logFile: join(tmp, 'forge.log'),
    metricsAddress: '127.0.0.1:9464',
  };
}

/** Invalid values per field (functions because they need the temp dir). */
const INVALID: Record<string, Array<() => unknown>> = {
  storeDir: [() => '', () => 42, () => join(tmp, 'file.txt'), () => join(tmp, 'file.txt', 'sub'), () => undefined],
  watchRoot: [() => join(tmp, 'missing'), () => join(tmp, 'file.txt'), () => 7, () => '', () => undefined],
  ignore: [() => 'notalist', () => [''], () => [1]],
  debounceMs: [() => -1, () => 60_001, () => 1.5, () => '100'],
  maxFileHandles: [() => 0, () => 15, () => 2_000_000],
  ioBackend: [() => 'uring', () => 3, () => 'IO_URING'],
  poolSize: [() => 0, () => 65],
  logLevel: [() => 'verbose', () => 'INFO', () => null],
  logFile: [() => join(tmp, 'missingdir', 'x.log'), () => tmp, () => ''],
  logRotateBytes: [() => 10, () => -1, () => 'big'],
  logMaxFiles: [() => 0, () => 1001],
  slowOperationMs: [() => 0, () => 3_600_001],
  metricsEnabled: [() => 'yes', () => 1],
  metricsAddress: [() => 'localhost', () => '1.2.3.4:99999', () => '10.0.0.1:9464', () => '[zz]:1'],
  metricsAllowRemote: [() => 'no'],
  shutdownTimeoutMs: [() => 99, () => 600_001],
  'retry.maxAttempts': [() => 0, () => 6, () => 1.5, () => '3'],
  'retry.baseDelayMs': [() => -1, () => 60_001, () => 'soon'],
  'retry.maxDelayMs': [() => 600_001, () => -5, () => null],
  debounce: [() => 5], // unknown field (typo)
  'retry.attempts': [() => 3], // unknown nested field
};

/** Sets `a` or `retry.a` on a plain config object. */
function setAt(cfg: Record<string, unknown>, field: string, v: unknown): void {
  const [top, sub] = field.split('.') as [string, string | undefined];
  if (sub === undefined) {
    if (v === undefined) delete cfg[top];
    else cfg[top] = v;
    return;
  }
  const o = (cfg[top] ??= {}) as Record<string, unknown>;
  o[sub] = v;
}

describe('configuration', () => {
  it('Property 15: the validator reports every invalid field, each with its constraint', () => {
    const fieldArb = fc.uniqueArray(fc.constantFrom(...Object.keys(INVALID)), { minLength: 0, maxLength: 8 });
    fc.assert(
      fc.property(
        fieldArb.chain((fields) => fc.tuple(fc.constant(fields), fc.array(fc.nat(), { minLength: fields.length, maxLength: fields.length }))),
        ([fields, picks]) => {
          const cfg = validBase();
          fields.forEach((f, i) => {
            const opts = INVALID[f]!;
            setAt(cfg, f, opts[picks[i]! % opts.length]!());
          });
          const r = validateConfig(cfg);
          if (fields.length === 0) {
            expect(r.ok).toBe(true);
            return;
          }
          expect(r.ok).toBe(false);
          if (r.ok) return;
          expect(r.issues.map((i) => i.field).sort()).toEqual([...fields].sort());
          for (const issue of r.issues) {
            expect(issue.problem.length).toBeGreaterThan(0);
            expect(issue.valid).toBe(validRange(issue.field));
            if (Object.hasOwn(RANGES, issue.field)) {
              const [lo, hi] = RANGES[issue.field as keyof typeof RANGES];
              expect(issue.valid).toContain(`from ${lo} to ${hi}`);
            }
          }
          const err = new ConfigError(r.issues);
          expect(err.category).toBe('configuration');
          for (const f of fields) expect(err.message).toContain(`- ${f}:`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a valid config gets the documented defaults', () => {
    const r = validateConfig({ storeDir: join(tmp, 'store'), watchRoot: join(tmp, 'root') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      ignore: [],
      debounceMs: 100,
      maxFileHandles: 1024,
      ioBackend: 'auto',
      poolSize: 4,
      logLevel: 'info',
      logRotateBytes: 100 * 1024 * 1024,
      logMaxFiles: 10,
      slowOperationMs: 1000,
      metricsEnabled: true,
      metricsAddress: '127.0.0.1:9464',
      metricsAllowRemote: false,
      shutdownTimeoutMs: 30_000,
      retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5000 },
    });
    expect(r.config.logFile).toBeUndefined();
  });

  it('flags override env, env overrides the file; sources are reported; relative paths resolve', () => {
    const dir = join(tmp, 'prec');
    mkdirSync(join(dir, 'root'), { recursive: true });
    writeFileSync(join(dir, 'forge.config.json'), JSON.stringify({ storeDir: 'store', watchRoot: 'root', debounceMs: 1, poolSize: 2, logLevel: 'warn' }));
    const { config, sources, file } = loadConfig({
      cwd: dir,
      env: { FORGE_DEBOUNCE_MS: '50', FORGE_POOL_SIZE: '8', FORGE_IGNORE: 'a/**, b', FORGE_METRICS_ENABLED: 'false', FORGE_UNRELATED: 'x' },
      flags: { 'pool-size': '16', verbose: true },
    });
    expect(file).toBe(join(dir, 'forge.config.json'));
    expect(config.storeDir).toBe(join(dir, 'store'));
    expect(config.watchRoot).toBe(join(dir, 'root'));
    expect(config.debounceMs).toBe(50);
    expect(config.poolSize).toBe(16);
    expect(config.logLevel).toBe('warn');
    expect(config.ignore).toEqual(['a/**', 'b']);
    expect(config.metricsEnabled).toBe(false);
    expect(sources.poolSize).toBe('flag --pool-size');
    expect(sources.debounceMs).toBe('env FORGE_DEBOUNCE_MS');
    expect(sources.logLevel).toBe(join(dir, 'forge.config.json'));
    expect(sources.shutdownTimeoutMs).toBe('default');
  });

  it('a bad env value is reported with its source; --config must exist; broken JSON is reported', () => {
    const err = (() => {
      try {
        loadConfig({ cwd: tmp, env: { FORGE_DEBOUNCE_MS: 'soon', FORGE_STORE_DIR: 's', FORGE_WATCH_ROOT: 'root' } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.issues).toEqual([expect.objectContaining({ field: 'debounceMs', source: 'env FORGE_DEBOUNCE_MS' })]);
    expect(() => loadConfig({ configPath: join(tmp, 'nope.json') })).toThrow(/cannot be read/);
    writeFileSync(join(tmp, 'broken.json'), '{ "storeDir": ');
    expect(() => loadConfig({ configPath: join(tmp, 'broken.json') })).toThrow(/not valid JSON/);
  });

  it('loadConfigOrExit prints the report and exits 78', () => {
    let out = '';
    let code: number | undefined;
    expect(() =>
      loadConfigOrExit(
        { cwd: tmp, env: {} },
        {
          stderr: (t) => void (out += t),
          exit: (c) => {
            code = c;
            throw new Error('exited');
          },
        },
      ),
    ).toThrow('exited');
    expect(code).toBe(78);
    expect(out).toMatch(/storeDir: is required/);
    expect(out).toMatch(/watchRoot: is required/);
  });

  it('the shipped JSON Schema matches the zod schema', () => {
    const shipped = JSON.parse(readFileSync(join(ROOT, 'schema/forge.config.schema.json'), 'utf8')) as Record<string, unknown>;
    expect(shipped).toEqual(configJsonSchema());
    const props = Object.keys(shipped.properties as object);
    for (const f of CONFIG_FIELDS) expect(props).toContain(f.split('.')[0]);
    const retry = (shipped.properties as Record<string, { properties: Record<string, { minimum: number; maximum: number; default: number }> }>).retry!;
    expect(retry.properties.maxAttempts).toMatchObject({ minimum: 1, maximum: 5, default: 5 });
    expect(retry.properties.baseDelayMs).toMatchObject({ minimum: 0, maximum: 60_000, default: 100 });
    expect(retry.properties.maxDelayMs).toMatchObject({ minimum: 0, maximum: 600_000, default: 5000 });
    expect(shipped.required).toEqual(['storeDir', 'watchRoot']);
  });

  it('config test: a file with five mistakes gives one report naming all five, exit 78, nothing started (child process)', () => {
    ensureDist();
    const cfgPath = join(tmp, 'five-mistakes.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        storeDir: join(tmp, 'store'),
        watchRoot: join(tmp, 'does-not-exist'), // 1: path does not exist
        debounceMs: -5, // 2: out of range
        ioBackend: 'uring', // 3: not an allowed value
        logLevel: 'loud', // 4: not a level
        metricsAddress: 'localhost:99999', // 5: malformed host:port
      }),
    );
    // The fixture loads the config like the daemon; `forge watch` is the real CLI path.
    for (const argv of [
      [join(FIXTURES, 'config-check.mjs'), cfgPath],
      [join(ROOT, 'bin/forge.js'), 'watch', '--config', cfgPath],
    ]) {
      const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 30_000, cwd: tmp });
      expect(r.status, r.stderr).toBe(EXIT_CODES.CONFIG);
      expect(r.stdout).not.toContain('started');
      expect(r.stdout).not.toContain('ready');
      expect(r.stderr).toContain('5 problems');
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
      expect(lines).toHaveLength(5);
      expect(lines[0]).toMatch(/^ {2}- watchRoot: .*does not exist \(valid: an existing directory/);
      expect(lines.find((l) => l.includes('debounceMs'))).toContain('from 0 to 60000');
      expect(lines.find((l) => l.includes('ioBackend'))).toContain('auto, io_uring, iocp, kqueue, fallback');
      expect(lines.find((l) => l.includes('logLevel'))).toContain('trace, debug, info, warn, error');
      expect(lines.find((l) => l.includes('metricsAddress'))).toContain('host:port');
      // Nothing started: the store was not created.
      expect(existsSync(join(tmp, 'store'))).toBe(false);
    }
    // Fixing them starts it.
    const ok = spawnSync(
      process.execPath,
      [
        join(FIXTURES, 'config-check.mjs'),
        cfgPath,
        `--watch-root=${join(tmp, 'root')}`,
        '--debounce-ms=5',
        '--io-backend=fallback',
        '--log-level=debug',
        '--metrics-address=127.0.0.1:0',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('started');
  });
});

describe('configuration: retry settings', () => {
  it('retry.* come from the file, FORGE_RETRY_* and flags, with sources, in that precedence', () => {
    const dir = join(tmp, 'retry-prec');
    mkdirSync(join(dir, 'root'), { recursive: true });
    writeFileSync(
      join(dir, 'forge.config.json'),
      JSON.stringify({ storeDir: 'store', watchRoot: 'root', retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 40 } }),
    );
    const { config, sources } = loadConfig({
      cwd: dir,
      env: { FORGE_RETRY_BASE_DELAY_MS: '20', FORGE_RETRY_MAX_DELAY_MS: '80' },
      flags: { 'retry-max-delay-ms': '160' },
    });
    expect(config.retry).toEqual({ maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 160 });
    expect(sources['retry.maxAttempts']).toBe(join(dir, 'forge.config.json'));
    expect(sources['retry.baseDelayMs']).toBe('env FORGE_RETRY_BASE_DELAY_MS');
    expect(sources['retry.maxDelayMs']).toBe('flag --retry-max-delay-ms');
    // Only env, no file section: the other retry fields keep their defaults.
    const { config: c2 } = loadConfig({ cwd: tmp, env: { FORGE_STORE_DIR: 's', FORGE_WATCH_ROOT: 'root', FORGE_RETRY_MAX_ATTEMPTS: '1' } });
    expect(c2.retry).toEqual({ maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 5000 });
  });

  it('retry.maxDelayMs below retry.baseDelayMs, and a retry that is not an object, are reported', () => {
    const r = validateConfig({ ...validBase(), retry: { baseDelayMs: 500, maxDelayMs: 400 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ field: 'retry.maxDelayMs', problem: '400 is below retry.baseDelayMs (500)' })]);
    const r2 = validateConfig({ ...validBase(), retry: 5 });
    expect(r2.ok).toBe(false);
    if (r2.ok) return;
    expect(r2.issues.map((i) => i.field)).toEqual(['retry']);
  });
});

describe('configuration: keys that are Object.prototype names', () => {
  const TRAPS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', '__defineGetter__'];

  it('each is an unknown field, at the top level and inside retry; none changes a value', () => {
    for (const key of TRAPS) {
      for (const nested of [false, true]) {
        // JSON.parse makes `__proto__` an own key, as a config file would.
        const doc = JSON.parse(nested ? `{"retry": {"${key}": {"maxAttempts": 1}}}` : `{"${key}": {"debounceMs": 5, "poolSize": 9}}`) as Record<
          string,
          unknown
        >;
        const r = validateConfig({ ...validBase(), ...doc });
        expect(r.ok, key).toBe(false);
        if (r.ok) continue;
        expect(r.issues, key).toEqual([expect.objectContaining({ field: nested ? `retry.${key}` : key, problem: 'is not a known field' })]);
      }
    }
  });

  it('a property test: any key not in the schema, with any JSON value, is reported by name and nothing else is', () => {
    const known = new Set(['$schema', ...CONFIG_FIELDS, 'retry']);
    const keyArb = fc.oneof(fc.constantFrom(...TRAPS, 'prototype', 'then', 'length'), fc.string({ minLength: 1 })).filter((k) => !known.has(k));
    fc.assert(
      fc.property(keyArb, fc.jsonValue(), fc.boolean(), (key, value, nested) => {
        const text = nested ? `{"retry": {${JSON.stringify(key)}: ${JSON.stringify(value)}}}` : `{${JSON.stringify(key)}: ${JSON.stringify(value)}}`;
        const r = validateConfig({ ...validBase(), ...(JSON.parse(text) as object) });
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.issues.map((i) => i.field)).toEqual([nested ? `retry.${key}` : key]);
      }),
      { numRuns: 200 },
    );
  });

  it('forge watch --config with each of them: one report naming it, exit 78, nothing started (child process)', () => {
    ensureDist();
    for (const key of TRAPS) {
      const dir = join(tmp, `trap-${key.replace(/_/g, 'u')}`);
      mkdirSync(join(dir, 'root'), { recursive: true });
      const cfgPath = join(dir, 'forge.config.json');
      writeFileSync(cfgPath, `{"storeDir": "store", "watchRoot": "root", "${key}": {"debounceMs": 5}, "retry": {"${key}": 1}}`);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/forge.js'), 'watch', '--once', '--config', cfgPath], {
        encoding: 'utf8',
        timeout: 30_000,
        cwd: dir,
      });
      expect(r.status, `${key}: ${r.stderr}`).toBe(EXIT_CODES.CONFIG);
      expect(r.stderr).toContain('2 problems');
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
      expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([`  - ${key}`, `  - retry.${key}`].sort());
      expect(existsSync(join(dir, 'store')), key).toBe(false);
    }
  });
});
