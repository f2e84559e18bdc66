/**
 * On a terminal (a real pty, through `script` from util-linux) the daemon's log records are short
 * human lines, coloured unless NO_COLOR is set; `--log-format json` and a pipe give JSON records.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, FORGE } from '../cli/helpers.js';
import { requireTool } from '../support/reference-tools.js';
import { cleanup, tempDir } from './support.js';

const script = requireTool('script', 'util-linux', 'daemon logs on a pseudo-terminal');
const base = tempDir('tty');
afterAll(() => cleanup(base));

function onPty(args: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('script', ['-qec', `${process.execPath} ${FORGE} ${args}`, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return r.stdout;
}

describe.skipIf(!script)('daemon logs on a terminal', () => {
  assertBuilt();
  const root = path.join(base, 'tree');
  mkdirSync(root);
  writeFileSync(path.join(root, 'a.txt'), 'a');

  it('human lines with colour on a pty, no JSON records', () => {
    const out = onPty(`watch --once --no-metrics ${root}`);
    expect(out).toMatch(/\d\d:\d\d:\d\d \x1b\[36mINFO \x1b\[0m I\/O backend: /);
    expect(out).not.toContain('{"level"');
  });

  it('NO_COLOR: the same lines without escape codes', () => {
    const out = onPty(`watch --once --no-metrics ${root}`, { NO_COLOR: '1' });
    expect(out).toMatch(/\d\d:\d\d:\d\d INFO  scan complete/);
    expect(out).not.toContain('\x1b[');
  });

  it('--log-format json on a pty, and a pipe, give JSON records', () => {
    expect(onPty(`watch --once --no-metrics --log-format json ${root}`)).toContain('{"level":"info"');
    const piped = spawnSync(process.execPath, [FORGE, 'watch', '--once', '--no-metrics', root], { encoding: 'utf8' });
    expect(piped.stderr).toContain('{"level":"info"');
  });
});
