// Every function of world core has a direct-vs-jco agreement case (agree-*.test.ts), or shows
// up here as a todo. The WIT function list comes from the jco-transpiled types' runtime exports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jcoApis } from './agree.js';

const here = new URL('.', import.meta.url).pathname;
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('contract: coverage of the agreement tests', () => {
  // Cases are declared as agree('iface', ['fn', …], …) in the test files: read them statically.
  const declared = new Set<string>();
  for (const f of readdirSync(here).filter((f) => /^agree-.*\.test\.ts$/.test(f))) {
    const src = readFileSync(join(here, f), 'utf8');
    for (const m of src.matchAll(/agree\(\s*'([a-z]+)',\s*\[([^\]]*)\]/g)) {
      for (const fn of m[2]!.matchAll(/'([a-z0-9-]+)'/g)) declared.add(`${m[1]}#${fn[1]}`);
    }
  }
  const ifaces = ['checksum', 'codec', 'chunker', 'events'] as const;
  const all = ifaces.flatMap((iface) => Object.keys(jcoApis[iface]).map((fn) => `${iface}#${kebab(fn)}`));

  it('finds the WIT functions', () => {
    expect(all).toContain('checksum#sha256-batch');
  });

  for (const fn of all) {
    if (declared.has(fn)) it(`${fn} has an agreement case`, () => expect(declared.has(fn)).toBe(true));
    // A WIT function added without an agreement case shows up as a todo, naming it (none today).
    else it.todo(`${fn}: no direct-vs-jco agreement case yet`);
  }
});
