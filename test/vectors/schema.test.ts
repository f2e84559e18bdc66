// Every published vectors file (vectors/*.json) validates against vectors/schema.json, and the
// schema is strict enough to reject what a broken generator would write.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', '..', 'vectors');
const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'schema.json')
  .sort();
const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown> & { cases: Record<string, unknown>[] };

/** The field names every case of `v` carries as expected output (per the README's tables). */
const EXPECTED: Record<string, string[]> = {
  sha256: ['sha256'],
  xxh32: ['xxh32'],
  fastcdc: ['cutPoints'],
  coalescer: ['outputs'],
  lz4: ['frame', 'decodedSha256', 'error'],
};

describe('vectors/schema.json', () => {
  it('covers the five areas', () => {
    expect(files).toEqual(['coalescer.json', 'fastcdc.json', 'lz4.json', 'sha256.json', 'xxh32.json']);
  });

  for (const f of files) {
    it(`${f} validates`, () => {
      const ok = validate(read(f));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });

    it(`${f}: every expected field has a provenance entry`, () => {
      const v = read(f) as { name: string; provenance: { field: string; kind?: string }[]; cases: Record<string, unknown>[] };
      for (const c of v.cases) {
        for (const field of EXPECTED[v.name]!.filter((k) => k in c)) {
          const kind = c.kind as string | undefined;
          const entry = v.provenance.find((p) => p.field === field && (p.kind === undefined || p.kind === kind));
          expect(entry, `${v.name} ${kind ?? ''} ${field}`).toBeDefined();
        }
      }
    });
  }

  it('rejects a file without its format version, an unknown field, a bad digest and a wrong case shape', () => {
    const good = read('sha256.json');
    const broken: unknown[] = [
      { ...good, format: undefined },
      { ...good, format: 2 },
      { ...good, extra: true },
      { ...good, provenance: [] },
      { ...good, cases: [{ ...good.cases[0], sha256: 'E3B0' }] },
      { ...good, cases: [{ kind: 'one-shot', input: { seed: 1 }, sha256: good.cases[0]!.sha256 }] },
      { ...read('lz4.json'), cases: [{ kind: 'error', frame: '00', error: 'broken' }] },
      { ...read('coalescer.json'), cases: [{ windowMs: 1, steps: [{ op: 'push', nowMs: 0 }], outputs: [] }] },
    ].map((v) => JSON.parse(JSON.stringify(v)));
    for (const [i, v] of broken.entries()) expect({ i, valid: validate(v) }).toEqual({ i, valid: false });
  });
});

describe('vectors/README.md', () => {
  it('prints gear-table check values that the FastCDC reference reproduces', async () => {
    // @ts-expect-error plain ESM helper without type declarations
    const { gearTable } = (await import('../../scripts/vectors/fastcdc-ref.mjs')) as { gearTable(): { hi: Uint32Array; lo: Uint32Array } };
    const g = gearTable();
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const printed = [...readme.matchAll(/GEAR\[(\d+)\] = 0x([0-9a-f]{16})/g)];
    expect(printed.length).toBeGreaterThanOrEqual(3);
    for (const [, i, hex] of printed) {
      const k = Number(i);
      expect(hex).toBe(g.hi[k]!.toString(16).padStart(8, '0') + g.lo[k]!.toString(16).padStart(8, '0'));
    }
  });
});
