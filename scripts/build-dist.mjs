// `npm run build:ts`: compiles host/ into a clean dist/, then makes it publishable
// (scripts/lib/finish-dist.mjs: the generated WIT types, opaque WebAssembly and SQLite types).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { finishDist, root } from './lib/finish-dist.mjs';

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
const n = finishDist();
console.log(`build-dist: dist/ compiled; gen/types copied, ${n} declaration files adjusted`);
