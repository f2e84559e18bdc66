import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES, exitCodeName } from '../../host/node/base/exit-codes.js';
import { ROOT } from './dist.js';

describe('exit codes', () => {
  it('are the documented values', () => {
    expect(EXIT_CODES).toEqual({ OK: 0, RUNTIME: 1, FORCED: 2, USAGE: 64, INTERNAL: 70, CONFIG: 78 });
    expect(exitCodeName(78)).toBe('CONFIG');
    expect(exitCodeName(3)).toBeUndefined();
  });

  it('are documented (README or docs/), each with its meaning', () => {
    const docs = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join('docs', f)),
    ];
    const doc = docs.map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    for (const code of Object.values(EXIT_CODES)) expect(doc).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
  });
});
