/**
 * The streamed initial scan and catch-up on a real tree, with the real platform I/O (io_uring
 * where the kernel has it), a real blob store and a real SQLite index. Expected hashes come from
 * sha256sum, the expected file list from find(1).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Index } from '../../host/node/index-db/index.js';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { HistoryRecorder, type RecorderOptions } from '../../host/node/history/record.js';
import { emptyWalkStats, walkBatches } from '../../host/node/history/tree-scan.js';
import { reconcile } from '../../host/node/history/reconcile.js';
import { openPlatformIO } from '../../host/node/io/open-platform.js';
import type { PlatformIO } from '../../host/node/base/platform-io.js';

const quiet = { debug: () => undefined, warn: () => undefined };
let root: string;
let io: PlatformIO;
let index: Index;
let store: BlobStore;
const walk = (): { storeDir: string } => ({ storeDir: path.join(root, '.forge') });

function write(rel: string, data: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), data);
}

/** Regular files under root outside .forge, as find(1) lists them, root-relative. */
function findFiles(): string[] {
  return execFileSync('find', ['.', '-path', './.forge', '-prune', '-o', '-type', 'f', '-print'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice(2))
    .sort();
}

/** sha256sum's digest of each file. */
function sha256sum(files: string[]): Map<string, string> {
  const out = execFileSync('sha256sum', ['--', ...files], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(66), l.slice(0, 64)]),
  );
}

function recorder(options: Partial<RecorderOptions> = {}): HistoryRecorder {
  return new HistoryRecorder(root, io, store, index, quiet, { walk: walk(), ...options });
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'forge-scan-'));
  io = (await openPlatformIO({})).io;
  store = await BlobStore.open(path.join(root, '.forge'), { io });
  index = await Index.open(path.join(root, '.forge', 'index.db'));
});
afterEach(async () => {
  await index.close();
  await store.close();
  await io.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('streamed scan', () => {
  it('walkBatches yields bounded batches that together are exactly what find lists (symlinks, FIFOs and ignored paths left out)', () => {
    for (let i = 0; i < 57; i++) write(`d${i % 4}/sub${i % 3}/f${i}.txt`, `content ${i}\n`);
    write('.gitignore', 'skipped/\n*.log\n');
    write('skipped/x.txt', 'no');
    write('d0/y.log', 'no');
    fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    const stats = emptyWalkStats();
    const sizes: number[] = [];
    const seen: string[] = [];
    for (const b of walkBatches(root, walk(), stats, '', 10)) {
      sizes.push(b.length);
      for (const f of b) seen.push(f.path);
    }
    const expected = findFiles().filter((p) => !p.startsWith('skipped/') && !p.endsWith('.log'));
    expect(seen.sort()).toEqual(expected);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.length).toBe(Math.ceil(expected.length / 10));
    expect(stats.files).toBe(expected.length);
    expect(stats.skipped).toBe(2); // the symlink and the FIFO
    expect(stats.totalBytes).toBe(expected.reduce((s, p) => s + fs.statSync(path.join(root, p)).size, 0));
  });

  it('a first scan in small batches and small transactions records every file with the content sha256sum names', async () => {
    for (let i = 0; i < 300; i++) write(`a${i % 7}/b${i % 5}/file-${i}.txt`, `file ${i} `.repeat(1 + (i % 40)));
    const rec = recorder({ batchFiles: 16, indexBatchRows: 50, concurrency: 3 });
    let progressed = 0;
    const r = await reconcile(root, index, rec, walk(), { onProgress: (n) => (progressed += n) });
    const files = findFiles();
    expect(r.firstScan).toBe(true);
    expect(r.walk.files).toBe(files.length);
    expect(r.tally.recorded).toBe(files.length);
    expect(progressed).toBe(files.length);
    const sums = sha256sum(files);
    const live = await index.files();
    expect(live.map((v) => v.path)).toEqual([...files].sort());
    for (const v of live) expect(v.hash).toBe(sums.get(v.path));
    expect((await index.stats()).versions).toBe(files.length);
  });

  it('a catch-up stores only what changed and records as removed only what is gone, not what is ignored now', async () => {
    for (let i = 0; i < 40; i++) write(`t/f${i}.txt`, `v1 ${i}`);
    await reconcile(root, index, recorder({ batchFiles: 8, indexBatchRows: 5 }), walk());
    write('t/f3.txt', 'v2 changed');
    fs.rmSync(path.join(root, 't/f4.txt'));
    write('t/new.txt', 'new');
    write('.forgeignore', 't/f5.txt\n');
    const r = await reconcile(root, index, recorder({ batchFiles: 8, indexBatchRows: 5 }), walk());
    expect(r.firstScan).toBe(false);
    expect(r.plan.toRemove).toBe(1);
    expect((await index.latest('t/f4.txt'))?.kind).toBe('removed');
    expect((await index.latest('t/f5.txt'))?.kind).toBe('created'); // ignored now, still there: kept
    expect((await index.versions('t/f3.txt')).map((v) => v.kind)).toEqual(['created', 'modified']);
    expect((await index.latest('t/f3.txt'))?.hash).toBe(sha256sum(['t/f3.txt']).get('t/f3.txt'));
    expect((await index.latest('t/new.txt'))?.kind).toBe('created');
    expect((await index.latest('.forgeignore'))?.kind).toBe('created');
    expect(r.tally.recorded - r.tally.removed).toBe(3); // f3, new.txt, .forgeignore
    expect(r.plan.unchanged).toBe(37); // 40 less f3 (changed), f4 (gone), f5 (ignored now: not walked)
  });

  it('a scan stopped part way records what it stored, and takes nothing it did not see as removed', async () => {
    for (let i = 0; i < 60; i++) write(`s/f${i}.txt`, `one ${i}`);
    await reconcile(root, index, recorder(), walk());
    for (let i = 0; i < 60; i++) write(`s/f${i}.txt`, `two, longer ${i}`);
    let batches = 0;
    const rec = recorder({ batchFiles: 5, concurrency: 1, shouldStop: () => batches >= 2 });
    const r = await reconcile(root, index, rec, walk(), { onProgress: () => void batches++ });
    expect(r.tally.removed).toBe(0);
    expect(r.tally.recorded).toBeGreaterThanOrEqual(10);
    expect(r.tally.recorded).toBeLessThan(60);
    const live = await index.files();
    expect(live).toHaveLength(60);
    expect(live.filter((v) => v.kind === 'modified')).toHaveLength(r.tally.recorded);
  });
});
