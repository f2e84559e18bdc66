/**
 * Shared setup for the hardening tests that run child processes: a temp dir per file,
 * a fresh sub-directory per run, compiled dist/, and no child left behind when an
 * assertion fails.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { ensureDist } from './dist.js';

export interface ChildSandbox {
  /** Children to SIGKILL after the file's tests. */
  children: Set<ChildProcess>;
  /** A fresh directory for one run. */
  newDir(): Promise<string>;
}

export function useChildSandbox(prefix: string): ChildSandbox {
  let tmp = '';
  let runId = 0;
  const children = new Set<ChildProcess>();
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), prefix));
    ensureDist();
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    children,
    async newDir() {
      const d = join(tmp, `run-${++runId}`);
      await fsp.mkdir(d, { recursive: true });
      return d;
    },
  };
}

/** The JSON lines of a log file, which must end with a newline (flushed whole). */
export function readLog(file: string): Array<Record<string, unknown>> {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
