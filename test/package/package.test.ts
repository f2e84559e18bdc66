/**
 * The package as a user gets it: `npm pack`, unpacked into a fresh project's node_modules the way
 * `npm install` lays it out (its dependencies linked from this checkout, so the test runs offline),
 * then:
 * - the tarball ships only what runs (no source maps, tests or build recordings) and stays small;
 * - a strict TypeScript consumer compiles under the node16, nodenext and bundler resolutions without
 *   skipLibCheck, and its `@ts-expect-error` lines prove the public types are real, not `any`;
 * - `forge-io/core` loads neither better-sqlite3, pino nor prom-client (nor any native addon),
 *   while `forge-io/store` does load better-sqlite3 (so the check can fail).
 * CI additionally installs the tarball from the registry's dependencies and runs publint and
 * @arethetypeswrong/cli on it (scripts/check-package.mjs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without declarations
import { finishDist } from '../../scripts/lib/finish-dist.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
let work = '';
let project = '';
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] };

beforeAll(() => {
  // dist/ is built by `npm ci` (prepare); build it under the shared tsc lock when an entry is missing.
  if (!existsSync(join(ROOT, 'dist', 'host', 'node', 'core-entry.d.ts'))) {
    execFileSync('flock', ['/tmp/forge-tsc.lock', 'npx', 'tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  }
  finishDist(ROOT); // idempotent: what `prepack` does (npm pack runs with --ignore-scripts below)
  work = mkdtempSync(join(tmpdir(), 'forge-package-'));
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
  packed = JSON.parse(out)[0];
  project = join(work, 'consumer');
  const target = join(project, 'node_modules', 'forge-io');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', target, '--strip-components=1']);
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  cpSync(join(ROOT, 'test', 'package', 'consumer', 'consumer.ts'), join(project, 'consumer.ts'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships dist, the core wasm, the component, wit, the schema and the license, and nothing that does not run', () => {
    const paths = packed.files.map((f) => f.path);
    for (const need of [
      'LICENSE',
      'README.md',
      'bin/forge.js',
      'build/forge-core.wasm',
      'build/forge-core.component.wasm',
      'schema/forge.config.schema.json',
      'wit/forge.wit',
      'dist/host/node/index.js',
      'dist/host/node/core-entry.d.ts',
      'dist/gen/types/core/interfaces/forge-core-events.d.ts',
    ]) {
      expect(paths, need).toContain(need);
    }
    const unwanted = paths.filter((p) => /\.map$|^build\/(interp|native)\/|\.wat$|embed\.wasm$|^gen\/|^test\/|^host\//.test(p));
    expect(unwanted).toEqual([]);
  });

  it('is under 3 MB unpacked', () => {
    process.stderr.write(
      `forge package: ${packed.filename} ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ${packed.files.length} files\n`,
    );
    expect(packed.unpackedSize).toBeLessThan(3_000_000);
  });
});

describe('a strict TypeScript consumer of the tarball', () => {
  // bundler also takes the DOM lib, as a web-facing project would: the published WebAssembly
  // declarations must merge with the DOM's rather than clash.
  const settings: Record<string, { module: string; moduleResolution: string; lib: string[] }> = {
    node16: { module: 'node16', moduleResolution: 'node16', lib: ['ES2023', 'ESNext.Disposable'] },
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2023', 'ESNext.Disposable'] },
    bundler: { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2023', 'ESNext.Disposable', 'DOM'] },
  };
  for (const [name, s] of Object.entries(settings)) {
    it(`compiles with moduleResolution ${name}, and only the lines marked @ts-expect-error fail`, () => {
      const tsconfig = join(project, `tsconfig.${name}.json`);
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: { ...s, target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
          files: ['consumer.ts'],
        }),
      );
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: project, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('fails to compile once an @ts-expect-error line is right (the check has teeth)', () => {
    const src = readFileSync(join(project, 'consumer.ts'), 'utf8').replace("kind: 'edited'", "kind: 'removed'");
    writeFileSync(join(project, 'consumer-teeth.ts'), src);
    const tsconfig = join(project, 'tsconfig.teeth.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer-teeth.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: project, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain("Unused '@ts-expect-error' directive");
  });
});

describe('subpath entry points', () => {
  /** The CommonJS modules and native addons a fresh process has loaded after importing `specifier`. */
  function loadedBy(specifier: string): { modules: string[]; addons: string[] } {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(specifier)});
      const modules = Object.keys(createRequire(import.meta.url).cache);
      const addons = process.report.getReport().sharedObjects.filter((s) => s.endsWith('.node'));
      process.stdout.write(JSON.stringify({ modules, addons }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`importing ${specifier} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
  const heavy = /[\\/]node_modules[\\/](better-sqlite3|pino|prom-client|koffi)[\\/]/;

  it('forge-io/core loads neither better-sqlite3, pino, prom-client nor any native addon', () => {
    const { modules, addons } = loadedBy('forge-io/core');
    expect(modules.filter((m) => heavy.test(m))).toEqual([]);
    expect(addons).toEqual([]);
  });

  it('forge-io/store does load better-sqlite3 (the check above sees such loads)', () => {
    const { modules } = loadedBy('forge-io/store');
    expect(modules.some((m) => /[\\/]better-sqlite3[\\/]/.test(m))).toBe(true);
  });

  it('every entry imports, and the root re-exports each subpath', async () => {
    const script = `
      const root = await import('forge-io');
      const out = {};
      for (const sub of ['core', 'io', 'watch', 'store']) {
        const m = await import('forge-io/' + sub);
        out[sub] = Object.keys(m).filter((k) => root[k] !== m[k]);
      }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ core: [], io: [], watch: [], store: [] });
  });
});
