#!/usr/bin/env node
// Writes schema/forge.config.schema.json from the zod schema in
// host/node/runtime/config/schema.ts (compiled to dist/ by `npm run build:ts`).
// `--check` exits 1 if the committed file differs (test/hardening/config-schema.test.ts does the same).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { configJsonSchema } = await import(join(root, 'dist/host/node/runtime/config/schema.js'));
const out = join(root, 'schema/forge.config.schema.json');
const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
if (process.argv.includes('--check')) {
  let have = '';
  try {
    have = readFileSync(out, 'utf8');
  } catch {
    /* missing counts as stale */
  }
  if (have !== text) {
    console.error(`${out} is stale: run npm run build:config-schema`);
    process.exit(1);
  }
  console.log(`${out} is up to date`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
