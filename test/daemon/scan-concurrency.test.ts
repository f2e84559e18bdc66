/** `forge watch --once` with FORGE_SCAN_CONCURRENCY and FORGE_SCAN_BATCH_FILES: a bad value stops it before anything starts; a good one scans. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const forge = path.resolve('bin/forge.js');

function once(tree: string, value: string, name = 'FORGE_SCAN_CONCURRENCY'): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [forge, 'watch', tree, '--once', '--no-metrics', '--log-level', 'warn'], {
    // An empty stderr is asserted: a loaded machine must not add a slow-operation warning to it.
    env: { ...process.env, FORGE_SLOW_OPERATION_MS: '3600000', [name]: value },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('FORGE_SCAN_CONCURRENCY', () => {
  it('refuses 0, 65 and "two" with exit 78 and the accepted range; records every file with 1 and with 64', () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-conc-'));
    try {
      for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(tree, `f${i}.txt`), `file ${i}\n`);
      for (const bad of ['0', '65', 'two']) {
        const r = once(tree, bad);
        expect(r.status).toBe(78);
        expect(r.stderr).toMatch(/FORGE_SCAN_CONCURRENCY must be an integer from 1 to 64/);
        expect(fs.existsSync(path.join(tree, '.forge', 'index.db'))).toBe(false);
      }
      for (const good of ['1', '64']) {
        fs.rmSync(path.join(tree, '.forge'), { recursive: true, force: true });
        const r = once(tree, good);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/initial scan: 30 files .*: 30 recorded, 0 unchanged, 0 removed/);
      }
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });
});

describe('FORGE_SCAN_BATCH_FILES', () => {
  it('refuses 0, 65537 and "many" with exit 78 and the accepted range; records every file in batches of 1, 7 and 65536', () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-batch-'));
    try {
      for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(tree, `f${i}.txt`), `file ${i}\n`);
      for (const bad of ['0', '65537', 'many']) {
        const r = once(tree, bad, 'FORGE_SCAN_BATCH_FILES');
        expect(r.status).toBe(78);
        expect(r.stderr).toMatch(/FORGE_SCAN_BATCH_FILES must be an integer from 1 to 65536/);
        expect(fs.existsSync(path.join(tree, '.forge', 'index.db'))).toBe(false);
      }
      for (const good of ['1', '7', '65536']) {
        fs.rmSync(path.join(tree, '.forge'), { recursive: true, force: true });
        const r = once(tree, good, 'FORGE_SCAN_BATCH_FILES');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/initial scan: 30 files .*: 30 recorded, 0 unchanged, 0 removed/);
      }
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });
});

describe('FORGE_SCAN_BATCH_MIB', () => {
  it('refuses 0, 1025 and "1.5" with exit 78 and the accepted range; records every file with 1 MiB batches', () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-mib-'));
    try {
      // 40 files of 100 KiB: 1 MiB batches hold about ten each, so the scan takes several batches.
      for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(tree, `f${i}.bin`), Buffer.alloc(100 * 1024, i));
      for (const bad of ['0', '1025', '1.5']) {
        const r = once(tree, bad, 'FORGE_SCAN_BATCH_MIB');
        expect(r.status).toBe(78);
        expect(r.stderr).toMatch(/FORGE_SCAN_BATCH_MIB must be an integer from 1 to 1024/);
        expect(fs.existsSync(path.join(tree, '.forge', 'index.db'))).toBe(false);
      }
      const r = once(tree, '1', 'FORGE_SCAN_BATCH_MIB');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/initial scan: 40 files .*: 40 recorded, 0 unchanged, 0 removed/);
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });
});
