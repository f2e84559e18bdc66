#!/usr/bin/env node
// `npm run bench`: every benchmark, one after another, each in its own process so
// one bench's heap and page cache state do not leak into the next.
// Each prints its own table of ratios (Forge / peer), all measured in that one run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';

const benches = ['core', 'io', 'watch', 'store', 'daemon'];
const only = process.argv.slice(2);
console.log(
  `# Forge benchmarks on ${os.cpus().length}-core ${os.arch()} ${os.cpus()[0]?.model ?? ''}, ` +
    `Linux ${os.release()}, Node ${process.version}, ${new Date().toISOString()}`,
);
let failed = 0;
const goals = [];
for (const name of benches) {
  if (only.length && !only.includes(name)) continue;
  const file = new URL(`./${name}.mjs`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n## ${name}: bench/${name}.mjs is missing`);
    failed++;
    continue;
  }
  console.log(`\n## bench:${name}`);
  // Each bench's output is printed when it ends (stdout is piped so its goal lines can be collected).
  const r = spawnSync(process.execPath, ['--expose-gc', file.pathname], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout ?? '');
  for (const line of (r.stdout ?? '').split('\n')) {
    if (/\b(met|not met|NOT met|NOT MET|missed)\b/.test(line) && /goal|>=|<=|≥|≤/.test(line)) goals.push(`${name}: ${line.trim()}`);
  }
  if (r.status !== 0) {
    console.log(`bench:${name} exited ${r.status ?? r.signal}`);
    failed++;
  }
}
// Every goal of every bench in one list, each a ratio measured in this run.
console.log('\n## Goals (every goal line of every bench above, each ratio from this run)');
for (const g of goals) console.log(`- ${g}`);
process.exit(failed ? 1 : 0);
