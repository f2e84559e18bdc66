import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES, exitCodeName } from '../../host/node/base/exit-codes.js';
import { ROOT } from './dist.js';

describe('exit codes', () => {
  it('are the documented values', () => {
    expect(EXIT_CODES).toEqual({ OK: 0, RUNTIME: 1, FORCED: 2, USAGE: 64, INTERNAL: 70, CONFIG: 78 });
    expect(exitCodeName(78)).toBe('CONFIG');
    expect(exitCodeName(3)).toBeUndefined();
  });

  it('are documented in the README section, each with its meaning', () => {
    const doc = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.values(EXIT_CODES)) expect(doc).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
  });
});
