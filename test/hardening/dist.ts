// Child processes run the compiled dist/ (tests import the .ts sources directly).
// This builds dist/ once when it is missing or older than the hardening sources.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'hardening');

const SOURCES = [
  'errors.ts', 'exit-codes.ts', 'retry.ts', 'logging.ts', 'rotating-file.ts', 'metrics.ts', 'metrics-server.ts',
  'shutdown.ts', 'config/schema.ts', 'config/validate.ts', 'config/load.ts', 'config/index.ts',
];

export function ensureDist(): void {
  const stale = SOURCES.some((s) => {
    const js = join(ROOT, 'dist/host/node', s.replace(/\.ts$/, '.js'));
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(ROOT, 'host/node', s)).mtimeMs;
  });
  if (!stale) return;
  try {
    // The whole tree is compiled; type errors elsewhere do not stop emit.
    execFileSync('flock', ['/tmp/forge-tsc.lock', 'npx', 'tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // tsc exits non-zero on type errors in other areas but still emits.
  }
  for (const s of SOURCES) {
    if (!existsSync(join(ROOT, 'dist/host/node', s.replace(/\.ts$/, '.js')))) throw new Error(`dist/ was not built for ${s}`);
  }
}
