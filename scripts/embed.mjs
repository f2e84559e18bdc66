// Embeds the WIT of one world into a core module (the first step of making a component).
// Why not `jco embed`: jco 1.35.0's CLI parses --world-name but never passes it on, so the
// world would be guessed. This calls the same API with the world set explicitly.
//
//   node scripts/embed.mjs <module.wasm> <wit-dir> <world> <out.wasm>
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed } from '@bytecodealliance/jco';

/** Returns `moduleBytes` with the WIT of `world` (from `witDir`) embedded as a custom section. */
export async function embedWorld(moduleBytes, witDir, world) {
  return componentEmbed({
    binary: moduleBytes,
    witPath: resolve(witDir),
    world,
    stringEncoding: 'utf8',
    metadata: [['processed-by', [['assemblyscript', '0.28.20']]]],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, witDir, world, output] = process.argv.slice(2);
  if (!output) {
    console.error('usage: node scripts/embed.mjs <module.wasm> <wit-dir> <world> <out.wasm>');
    process.exit(2);
  }
  const out = await embedWorld(await readFile(input), witDir, world);
  await writeFile(output, out);
  console.log(`embed: world ${world} -> ${output} (${out.length} bytes)`);
}
