// The published vectors (vectors/*.json) through the direct loader on both core modules (scalar
// and SIMD), inside the test run. `npm run vectors:check` additionally runs them through jco,
// the wasm2c build and wabt's interpreter.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreWasmPath, loadCore } from '../../host/node/core/loader.js';
import { bindings as checksum } from '../../host/node/core/checksum.js';
import { bindings as codec } from '../../host/node/core/codec.js';
import { bindings as chunker } from '../../host/node/core/chunker.js';
import { bindings as events } from '../../host/node/core/events.js';
// @ts-expect-error plain ESM helper without type declarations
import { loadAreas, readVectors } from '../../scripts/lib/vectors.mjs';

type Area = { name: string; expected(c: unknown): unknown; check(api: unknown, c: unknown): unknown };

const areas = (await loadAreas()) as Map<string, Area>;

describe.each(['scalar', 'simd'] as const)('vectors/ through the direct loader, %s module', (kind) => {
  const core = loadCore(new WebAssembly.Module(readFileSync(coreWasmPath(kind))));
  const api = { checksum: checksum(core), codec: codec(core), chunker: chunker(core), events: events(core) };
  for (const [name, area] of areas) {
    const v = readVectors(name) as { cases: unknown[] } | null;
    it(`${name}.json exists and has cases`, () => {
      expect(v?.cases.length ?? 0).toBeGreaterThan(0);
    });
    if (!v) continue;
    it(`${name}: all ${v.cases.length} cases`, () => {
      v.cases.forEach((c, i) => {
        expect({ case: i, out: area.check(api, c) }).toEqual({ case: i, out: area.expected(c) });
      });
    });
  }
});
