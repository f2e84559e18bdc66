// Versions of the tools that produce expected values, recorded in each vectors file's
// `provenance` at generation time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The first line `command args` prints (e.g. `sha256sum (GNU coreutils) 9.1`). */
export function toolVersion(command, args = ['--version']) {
  const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out
    .split('\n')
    .find((l) => l.trim() !== '')
    .replace(/\*+/g, '')
    .trim();
}

/** `name@version` of an installed npm package. */
export function packageVersion(name) {
  const pkg = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'));
  return `${name}@${pkg.version}`;
}
