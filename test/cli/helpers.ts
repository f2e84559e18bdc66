/**
 * Drives the real CLI (`node bin/forge.js`, compiled dist/) in child
 * processes, as a user would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FORGE = path.join(REPO, 'bin', 'forge.js');

/** Fails early, with the fix, when dist/ was not built. */
export function assertBuilt(): void {
  if (!existsSync(path.join(REPO, 'dist', 'host', 'node', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` (npm ci does it through prepare) before these tests');
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** Runs `forge <args>` to completion. */
export function forge(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): RunResult {
  const r = spawnSync(process.execPath, [FORGE, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), stdoutBytes: r.stdout };
}

/** A running `forge watch`. */
export class Daemon {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.child = spawn(process.execPath, [FORGE, 'watch', ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    // 'close', not 'exit': the last stderr lines (the shutdown summary) may still be in the pipe at 'exit'.
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Resolves once stdout has a line starting with `forge: ready`. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    while (!this.stdout.split('\n').some((l) => l.startsWith('forge: ready'))) {
      if (this.child.exitCode !== null) throw new Error(`forge watch exited ${this.child.exitCode} before ready:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`forge watch not ready after ${timeoutMs} ms:\n${this.stdout}\n${this.stderr.slice(-4000)}`);
      await sleep(25);
    }
  }

  /** Sends a signal by pid and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

export interface LogEntry {
  seq: number;
  path: string;
  timeMs: number;
  kind: string;
  hash: string | null;
  size: number | null;
  oldPath: string | null;
}

/** `forge log <path> --json`, or [] when nothing is recorded yet. */
export function log(cwd: string, p: string): LogEntry[] {
  const r = forge(['log', p, '--json'], { cwd });
  if (r.code !== 0) return [];
  return JSON.parse(r.stdout) as LogEntry[];
}
