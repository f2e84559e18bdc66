/**
 * The CLI in pipes and on big inputs: every command whose output is piped into `head -1` ends
 * quietly with exit 0 when the reader goes away (EPIPE), as git and coreutils do; `diff` of a
 * 1,000,000-line file where every line changed completes with a whole-file replacement.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, FORGE } from './helpers.js';
import { seedHistory } from './seed.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-pipes-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const MANY = 3000; // versions: `forge log` of the whole tree prints far more than a pipe buffer (64 KiB)
const BIG_LINES = 1_000_000;

beforeAll(async () => {
  assertBuilt();
  const now = Date.now();
  const lines = (prefix: string): string => {
    const parts: string[] = new Array(BIG_LINES);
    for (let i = 0; i < BIG_LINES; i++) parts[i] = `${prefix} line ${i}`;
    return parts.join('\n') + '\n';
  };
  const events = [
    { path: 'big.txt', content: lines('old'), timeMs: now - 60_000 },
    { path: 'big.txt', content: lines('new'), timeMs: now - 50_000 },
  ];
  for (let i = 0; i < MANY; i++) events.push({ path: `many/f${i}.txt`, content: `file ${i}\n`, timeMs: now - 40_000 + i });
  await seedHistory(root, events);
  fs.writeFileSync(path.join(root, 'big.txt'), lines('current'));
}, 300_000);

/** Runs `forge <args> | head -1` in bash and returns forge's own exit status, head's output and forge's stderr. */
function pipeToHead(args: string[]): { status: number; first: string; stderr: string } {
  const errFile = path.join(root, 'stderr.txt');
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(FORGE)} ${args.map((a) => JSON.stringify(a)).join(' ')} 2>${JSON.stringify(errFile)} | head -1; exit \${PIPESTATUS[0]}`;
  const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, first: r.stdout, stderr: fs.readFileSync(errFile, 'utf8') };
}

describe('pipes', () => {
  for (const args of [
    ['cat', 'big.txt@2'],
    ['log'],
    ['log', '--json'],
    ['diff', 'big.txt'],
    ['diff', 'big.txt', '1', 'current'],
    ['stats'],
    ['verify'],
    ['ls'],
  ]) {
    it(`forge ${args.join(' ')} | head -1 exits 0 without a stack trace`, () => {
      const r = pipeToHead(args);
      expect(r.stderr).not.toMatch(/EPIPE|Error:|at .*\.js:\d+/);
      expect(r.status).toBe(0);
      expect(r.first.length).toBeGreaterThan(0);
    });
  }

  it('diff of a 1,000,000-line file where every line changed completes, as a whole-file replacement that says so', () => {
    const r = spawnSync(process.execPath, [FORGE, 'diff', 'big.txt', '1', '2'], { cwd: root, maxBuffer: 1 << 30, timeout: 300_000 });
    expect(r.status).toBe(0);
    const out = r.stdout.toString('utf8');
    expect(out.startsWith(`--- big.txt@1\n+++ big.txt@2\n@@ -1,${BIG_LINES} +1,${BIG_LINES} @@\n-old line 0\n`)).toBe(true);
    expect(out.split('\n').length).toBe(2 * BIG_LINES + 4);
    expect(r.stderr.toString()).toMatch(/differ too much for a minimal diff; shown as a full replacement/);
  });
});
