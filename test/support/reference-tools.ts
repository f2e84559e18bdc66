// Checks that need a reference tool (a Debian package) or root run where it is present. Where it is
// absent they are skipped with one line naming what did not run and how to enable it, unless
// FORGE_REQUIRE_REFERENCE_TOOLS=1 (CI), where an absence fails the run instead.
import { spawnSync } from 'node:child_process';

export const REQUIRE_REFERENCE_TOOLS = process.env.FORGE_REQUIRE_REFERENCE_TOOLS === '1';

const said = new Set<string>();

function absent(what: string, howToEnable: string): false {
  const line = `forge tests: not run: ${what} (enable: ${howToEnable})`;
  if (REQUIRE_REFERENCE_TOOLS) throw new Error(`${line}; FORGE_REQUIRE_REFERENCE_TOOLS=1 requires it`);
  if (!said.has(line)) {
    said.add(line);
    process.stderr.write(`${line}\n`);
  }
  return false;
}

/** True when `command` runs on this machine (found on PATH). */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * True when `command` is on PATH. Otherwise prints one line (`checks`: what did not run; `aptPackage`:
 * the Debian package that brings it) and returns false, or throws under FORGE_REQUIRE_REFERENCE_TOOLS=1.
 *
 * @example
 * ```ts
 * const lz4 = requireTool('lz4', 'lz4', 'LZ4 frame interop with the lz4 CLI');
 * it.skipIf(!lz4)('our frames decode with lz4 -d', () => { ... });
 * ```
 */
export function requireTool(command: string, aptPackage: string, checks: string): boolean {
  return hasCommand(command) || absent(`${checks} (no \`${command}\` on PATH)`, `apt-get install ${aptPackage}`);
}

/** True when running as root; otherwise one line (or a failure when root is required and `requiredInCi`). */
export function requireRoot(checks: string, requiredInCi = false): boolean {
  if (process.getuid?.() === 0) return true;
  if (requiredInCi && REQUIRE_REFERENCE_TOOLS) throw new Error(`forge tests: ${checks} need root`);
  const line = `forge tests: not run: ${checks} (needs root; run the suite as root to include it)`;
  if (!said.has(line)) {
    said.add(line);
    process.stderr.write(`${line}\n`);
  }
  return false;
}
