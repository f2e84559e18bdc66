// Standalone runner for the IOCP suite (vitest is too heavy under Wine): runs
// every case in order, prints one line per case and a final "N passed, N failed"
// line, and exits non-zero on any failure. Started by scripts/test-windows.mjs
// with a Windows node.exe; stdout is a file there (a pipe breaks node.exe under Wine).
import { cases } from './iocp-suite.mjs';

const only = process.env.FORGE_WIN_ONLY;
let passed = 0;
let failed = 0;
const t0 = Date.now();
console.log(`node ${process.version} on ${process.platform}/${process.arch}`);
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  const t = Date.now();
  try {
    await c.fn();
    passed++;
    console.log(`ok   ${c.name} (${Date.now() - t} ms)`);
  } catch (err) {
    failed++;
    console.log(
      `FAIL ${c.name} (${Date.now() - t} ms)\n     ${String(err && err.stack ? err.stack : err)
        .split('\n')
        .join('\n     ')}`,
    );
  }
}
console.log(`total ${Date.now() - t0} ms`);
// Every backend and watch was closed: the process must now exit by itself.
// If something still holds the event loop (a leaked timer, handle or async
// FFI call), say what and fail instead of hanging.
setTimeout(() => {
  console.log(`leak: the process did not exit 10 s after the last case; active resources: ${process.getActiveResourcesInfo().join(', ')}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(3);
}, 10_000).unref();
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
