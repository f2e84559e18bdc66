/**
 * Shared pieces of the adversarial tests: temp trees, a hostile writer in its own process,
 * and independent checks of what the store holds (the lz4 CLI, sha256sum, sqlite3).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp directory (removed by `cleanup`). */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `forge-adv-${prefix}-`));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every object and manifest file of a store (not its tmp/ writes in progress). */
export function storeObjects(storeDir: string): string[] {
  const out: string[] = [];
  for (const top of ['objects', 'manifests']) {
    const base = path.join(storeDir, top);
    let fans: string[];
    try {
      fans = readdirSync(base);
    } catch {
      continue;
    }
    for (const fan of fans) {
      if (fan === 'tmp') continue;
      const d = path.join(base, fan);
      if (!statSync(d).isDirectory()) continue;
      for (const f of readdirSync(d)) out.push(path.join(d, f));
    }
  }
  return out;
}

/** Decodes every object with `lz4 -dc` (one process per object) and returns whether `needle` occurs in any. */
export function anyObjectContains(storeDir: string, needle: string): { objects: number; hits: string[] } {
  const objects = storeDir.endsWith('objects') ? [] : storeObjects(storeDir).filter((p) => p.includes(`${path.sep}objects${path.sep}`));
  const hits: string[] = [];
  // Concatenated LZ4 frames decode to the concatenation: one lz4 per 200 objects keeps this fast.
  for (let i = 0; i < objects.length; i += 200) {
    const group = objects.slice(i, i + 200);
    const r = spawnSync('sh', ['-c', 'cat "$@" | lz4 -dc', 'sh', ...group], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`lz4 -dc failed: ${r.stderr.toString()}`);
    if (r.stdout.includes(needle)) {
      for (const o of group) {
        const one = spawnSync('lz4', ['-dc', o], { maxBuffer: 1 << 30 });
        if (one.stdout.includes(needle)) hits.push(o);
      }
    }
  }
  return { objects: objects.length, hits };
}

/** SHA-256 of a file by sha256sum. */
export function sha256sum(file: string): string {
  const r = spawnSync('sha256sum', [file]);
  return r.stdout.toString().split(' ')[0]!;
}

/** Rows of an SQL query on the index, by the sqlite3 CLI (tab-separated). */
export function sql(indexFile: string, query: string): string[][] {
  const r = spawnSync('sqlite3', ['-readonly', '-separator', '\t', indexFile, query]);
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr.toString()}`);
  return r.stdout
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** A process running `script` (node) until stopped; it writes "started" once it is under way. */
export class Hostile {
  readonly child: ChildProcess;
  readonly started: Promise<void>;
  out = '';
  constructor(script: string, args: string[], opts: { uid?: string } = {}) {
    const cmd = opts.uid
      ? ['setpriv', `--reuid=${opts.uid}`, '--regid=nogroup', '--clear-groups', process.execPath, '-e', script, '--', ...args]
      : [process.execPath, '-e', script, '--', ...args];
    this.child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.started = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (d: Buffer) => {
        this.out += d.toString();
        if (this.out.includes('started')) resolve();
      });
      this.child.on('exit', (code) => reject(new Error(`hostile process exited ${code} before starting: ${this.out}`)));
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    // setpriv runs the node child in its own process: its exit is awaited, but never forever.
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  }
}

/**
 * Swaps each file `f` of `dir` (argv) between a symlink to `target` and a regular file, in a loop:
 * symlink and regular file are each put in place with an atomic rename.
 */
export const SYMLINK_SWAPPER = `
const fs = require('fs'), path = require('path');
const [dir, target, names] = [process.argv[1], process.argv[2], process.argv[3].split(',')];
fs.writeSync(1, 'started\\n');
let n = 0;
for (;;) {
  for (const name of names) {
    const f = path.join(dir, name), tmp = f + '.swap';
    try {
      if (n % 2 === 0) { fs.rmSync(tmp, { force: true }); fs.symlinkSync(target, tmp); fs.renameSync(tmp, f); }
      else { fs.writeFileSync(tmp, 'ordinary ' + name); fs.renameSync(tmp, f); }
    } catch {}
  }
  n++;
}`;
