// `npm run build:ts`: compiles host/ into a clean dist/, then copies the WIT-generated declarations
// (gen/types) to dist/gen/types, where the emitted .d.ts files import them from (`../../../gen/types`):
// tsc does not emit declaration inputs, and without them the published types resolve to nothing.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
cpSync(join(root, 'gen', 'types'), join(root, 'dist', 'gen', 'types'), { recursive: true });
console.log('build-dist: dist/ compiled, gen/types copied to dist/gen/types');
