// `npm run check:package` (CI): the tarball as the registry would serve it.
//   1. `npm pack` of the built tree (npm ci built it through prepare; finish-dist is re-applied) and its size;
//   2. publint and @arethetypeswrong/cli on the tarball (ESM-only: the CommonJS resolution is ignored);
//   3. a fresh project installs the tarball with npm (dependencies from the registry, so better-sqlite3's
//      install is the only compile), imports every entry and runs `forge --version`.
// test/package/ covers the strict consumer compile offline inside `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finishDist, root } from './lib/finish-dist.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
const work = mkdtempSync(join(tmpdir(), 'forge-check-package-'));
try {
  finishDist();
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }));
  const tarball = join(work, packed.filename);
  console.log(`check-package: ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ${packed.entryCount} files`);
  if (packed.unpackedSize >= 3_000_000) throw new Error(`the package is ${packed.unpackedSize} bytes unpacked (limit 3 MB)`);

  run(bin('publint'), ['run', tarball, '--strict']);
  // The .wasm entries are assets, not modules: nothing to type.
  run(bin('attw'), [
    tarball,
    '--profile',
    'esm-only',
    '--exclude-entrypoints',
    './core.wasm',
    './core.component.wasm',
    './core-simd.wasm',
    './core-simd.component.wasm',
    './core-cli.wasm',
    './core-cli.component.wasm',
  ]);

  const project = join(work, 'consumer');
  run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project });
  run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "for (const s of ['forge-io', 'forge-io/core', 'forge-io/io', 'forge-io/watch', 'forge-io/store']) await import(s); console.log('check-package: every entry imports');",
    ],
    { cwd: project },
  );
  run(join(project, 'node_modules', '.bin', 'forge'), ['--version'], { cwd: project });
  console.log('check-package OK');
} finally {
  rmSync(work, { recursive: true, force: true });
}
