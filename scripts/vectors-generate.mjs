// Regenerates vectors/<area>.json for every area in scripts/vectors/ (or the named ones):
//   node scripts/vectors-generate.mjs [area...]
// Inputs come from the seeded PRNG documented in vectors/README.md; expected outputs from
// independent tools (sha256sum, hash-wasm, the lz4 CLI, …), never from the core under test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAreas, vectorsDir } from './lib/vectors.mjs';

/** Version of the file layout (vectors/schema.json); bump it on any incompatible change. */
const FORMAT = 1;
const LICENSE = 'MIT';

const areas = await loadAreas();
const wanted = process.argv.slice(2);
for (const w of wanted)
  if (!areas.has(w)) {
    console.error(`vectors-generate: no area "${w}" (have: ${[...areas.keys()].join(', ')})`);
    process.exit(2);
  }

for (const [name, area] of areas) {
  if (wanted.length && !wanted.includes(name)) continue;
  const cases = await area.generate();
  // One case per line: readable diffs when vectors change.
  const body = [
    '{',
    `  "format": ${FORMAT},`,
    `  "name": ${JSON.stringify(name)},`,
    `  "description": ${JSON.stringify(area.description)},`,
    '  "inputs": "see vectors/README.md (xorshift32 PRNG and input specifications)",',
    `  "generator": "scripts/vectors/${name}.mjs",`,
    `  "license": ${JSON.stringify(LICENSE)},`,
    '  "provenance": [',
    area
      .provenance()
      .map((p) => `    ${JSON.stringify(p)}`)
      .join(',\n'),
    '  ],',
    '  "cases": [',
    cases.map((c) => `    ${JSON.stringify(c)}`).join(',\n'),
    '  ]',
    '}',
  ].join('\n');
  writeFileSync(join(vectorsDir, `${name}.json`), `${body}\n`);
  console.log(`vectors-generate: vectors/${name}.json: ${cases.length} cases`);
}
