// Child processes run the compiled dist/ (tests import the .ts sources directly).
// ensureDist() builds dist/ when it is missing or older than the hardening sources.
// Check and build run together under one lock, so test files running in parallel
// never spawn children while another one is rewriting dist/.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'hardening');

const SOURCES = [
  'base/errors.ts',
  'base/exit-codes.ts',
  'base/retry.ts',
  'runtime/logging.ts',
  'runtime/rotating-file.ts',
  'runtime/metrics.ts',
  'runtime/metrics-server.ts',
  'runtime/retry-reporting.ts',
  'runtime/shutdown.ts',
  'runtime/shutdown-types.ts',
  'runtime/shutdown-log.ts',
  'runtime/config/schema.ts',
  'runtime/config/validate.ts',
  'runtime/config/load.ts',
  'runtime/config/index.ts',
];

// Shared by every user who runs the tests (root in CI, then an unprivileged user): created
// mode 0666, and opened read-only without O_CREAT, which works on a file another user owns
// even where fs.protected_regular forbids O_CREAT on it in sticky /tmp. flock needs no write access.
const LOCK = '/tmp/forge-tsc.lock';

function ensureLockFile(): void {
  if (existsSync(LOCK)) return;
  try {
    closeSync(openSync(LOCK, 'a', 0o666));
    chmodSync(LOCK, 0o666); // the umask may have removed bits
  } catch {
    // Another user created it meanwhile (or it is theirs and not ours to chmod): reading is enough.
  }
}

// Runs under the lock: exits 0 if fresh, else builds (tsc exits non-zero on type
// errors in other areas of the tree but still emits, so its status is ignored).
const CHECK_AND_BUILD = `
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
const [root, ...sources] = process.argv.slice(1);
const stale = sources.some((s) => {
  const js = join(root, 'dist/host/node', s.replace(/\\.ts$/, '.js'));
  return !existsSync(js) || statSync(js).mtimeMs < statSync(join(root, 'host/node', s)).mtimeMs;
});
if (stale) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
`;

export function ensureDist(): void {
  ensureLockFile();
  // `exec 9<lock` opens it read-only (no O_CREAT); flock 9 then holds it while node runs.
  execFileSync('sh', ['-c', 'exec 9<"$0" && flock 9 && exec "$@"', LOCK, process.execPath, '-e', CHECK_AND_BUILD, ROOT, ...SOURCES], {
    stdio: 'ignore',
    timeout: 300_000,
  });
  for (const s of SOURCES) {
    if (!existsSync(join(ROOT, 'dist/host/node', s.replace(/\.ts$/, '.js')))) throw new Error(`dist/ was not built for ${s}`);
  }
}
