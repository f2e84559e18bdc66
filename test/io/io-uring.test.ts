/**
 * io_uring backend edge cases, on the real kernel: empty files, files past the
 * size hint, a 1 GiB sparse file, 10,000-path batches, per-slot errors,
 * readFd/cancelFd, and nothing left behind after close() or process exit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIoUringBackend, type IoUringBackend } from '../../host/native/linux/io-uring-backend.js';
import { ResourceManager } from '../../host/node/base/resources.js';
import { ensureDist, ioUringFds, ioUringMappings, openFdCount, removeDir, tempDir } from './helpers.js';

/** These tests need Linux (io_uring, inotify, /proc); macOS and Windows CI jobs skip them. */
const linuxOnly = describe.skipIf(process.platform !== 'linux');

let dir: string;
let io: IoUringBackend;
beforeAll(() => {
  if (process.platform !== 'linux') return;
  dir = tempDir('uring');
  io = createIoUringBackend({ maxHandles: 128 });
});
afterAll(async () => {
  if (process.platform !== 'linux') return;
  await io.close();
  removeDir(dir);
});

linuxOnly('io_uring reads', () => {
  test('empty, tiny, exactly-the-hint, past-the-hint and multi-MiB files', async () => {
    const sizes = [0, 1, 4095, 4096, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 1 << 20, (1 << 20) + 3, 5 * (1 << 20) + 17];
    const paths = sizes.map((n, i) => {
      const p = path.join(dir, `size-${i}`);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j += 997) b[j] = (j * 7 + i) & 0xff;
      fs.writeFileSync(p, b);
      return p;
    });
    const r = await io.batchRead(paths);
    r.forEach((x, i) => {
      expect(x.ok).toBe(true);
      if (x.ok) {
        expect(x.data.length).toBe(sizes[i]);
        expect(Buffer.compare(Buffer.from(x.data), fs.readFileSync(paths[i]!))).toBe(0);
      }
    });
  });

  test('after files that outgrow the hint, reads start with STATX, and stay right for every kind of path', async () => {
    const b = createIoUringBackend({ sizeHint: 1024, smallBatchSync: 0 });
    try {
      const big = Array.from({ length: 12 }, (_, i) => path.join(dir, `big-${i}`));
      big.forEach((p, i) => fs.writeFileSync(p, Buffer.alloc(3000 + i, i)));
      expect((await b.batchRead(big)).every((r) => r.ok && r.data.length >= 3000)).toBe(true);
      expect(b.preferStat).toBe(true);
      const empty = path.join(dir, 'empty-after-big');
      fs.writeFileSync(empty, '');
      const small = path.join(dir, 'small-after-big');
      fs.writeFileSync(small, 'tiny');
      const r = await b.batchRead([empty, small, big[3]!, path.join(dir, 'missing-after-big'), dir]);
      expect(r.map((x) => (x.ok ? x.data.length : x.error.context.code))).toEqual([0, 4, 3003, 'ENOENT', 'EISDIR']);
      // small files bring the guess back down
      const smalls = Array.from({ length: 8 }, () => small);
      await b.batchRead(smalls);
      expect(b.preferStat).toBe(false);
    } finally {
      await b.close();
    }
  });

  test('a 1 GiB sparse file reads whole (its second READ runs on io-wq)', async () => {
    const p = path.join(dir, 'one-gib');
    execFileSync('truncate', ['-s', '1G', p]);
    fs.writeFileSync(p, Buffer.from('tail'), { flag: 'r+' }); // first bytes non-zero
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, Buffer.from('END'), 0, 3, (1 << 30) - 3);
    fs.closeSync(fd);
    const data = await io.readAll(p);
    expect(data.length).toBe(1 << 30);
    expect(Buffer.from(data.subarray(0, 4)).toString()).toBe('tail');
    expect(Buffer.from(data.subarray((1 << 30) - 3)).toString()).toBe('END');
    fs.rmSync(p);
  });

  test('read(path, offset, length) at and past EOF', async () => {
    const p = path.join(dir, 'range');
    fs.writeFileSync(p, '0123456789');
    expect(Buffer.from(await io.read(p, 2, 3)).toString()).toBe('234');
    expect(Buffer.from(await io.read(p, 8, 100)).toString()).toBe('89');
    expect((await io.read(p, 50, 10)).length).toBe(0);
    expect((await io.read(p, 0, 0)).length).toBe(0);
  });

  test('failed items get a ForgeError in their slot and do not fail the batch', async () => {
    const ok = path.join(dir, 'ok');
    fs.writeFileSync(ok, 'fine');
    const paths = [path.join(dir, 'nope'), ok, dir, path.join(ok, 'under-a-file'), 'bad\0path', ''];
    const r = await io.batchRead(paths);
    const codes = r.map((x) => (x.ok ? Buffer.from(x.data).toString() : `${x.error.category}:${String(x.error.context.code ?? '')}`));
    expect(codes).toEqual(['filesystem:ENOENT', 'fine', 'filesystem:EISDIR', 'filesystem:ENOTDIR', 'validation:', 'validation:']);
    for (const x of r) {
      if (x.ok) continue;
      expect(x.error.context.backend).toBe('io_uring');
      expect(x.error.context.operation).toBe('batchRead');
      expect(x.error.suggestions().length).toBeGreaterThan(0);
    }
    await expect(io.readAll(path.join(dir, 'nope'))).rejects.toMatchObject({
      category: 'filesystem',
      context: { code: 'ENOENT', file: path.join(dir, 'nope') },
    });
  });

  test('10,000 paths in one batch, chunked within 128 handles and the slot table', async () => {
    // 500 distinct files, each named 20 times: 10,000 paths without creating 10,000 files.
    const d = path.join(dir, 'many');
    fs.mkdirSync(d);
    const files = Array.from({ length: 500 }, (_, i) => path.join(d, `f${i}`));
    const w = await io.batchWrite(files.map((p, i) => ({ path: p, data: Buffer.from(`file ${i}`) })));
    expect(w.filter((x) => !x.ok)).toEqual([]);
    const paths = Array.from({ length: 10_000 }, (_, i) => files[(i * 7) % 500]!);
    io.resources.resetPeak();
    const before = io.stats().enters;
    const r = await io.batchRead(paths);
    r.forEach((x, i) => expect(x.ok && Buffer.from(x.data).toString()).toBe(`file ${(i * 7) % 500}`));
    expect(io.resources.stats().peak).toBeLessThanOrEqual(128);
    // at most 32 chains per io_uring_enter: at least 10,000 / 32 enters
    expect(io.stats().enters - before).toBeGreaterThanOrEqual(Math.ceil(10_000 / 32));
  });
});

linuxOnly('io_uring writes', () => {
  test('writeAll replaces, write(offset) patches, sync writes land, empty data truncates', async () => {
    const p = path.join(dir, 'w');
    await io.writeAll(p, Buffer.from('a long first version'));
    await io.writeAll(p, Buffer.from('short'), { sync: true });
    expect(fs.readFileSync(p, 'utf8')).toBe('short');
    expect(await io.write(p, Buffer.from('XY'), 1)).toBe(2);
    expect(fs.readFileSync(p, 'utf8')).toBe('sXYrt');
    expect(await io.write(p, Buffer.from('!'), 10)).toBe(1);
    expect(fs.readFileSync(p).length).toBe(11);
    await io.writeAll(p, new Uint8Array(0));
    expect(fs.statSync(p).size).toBe(0);
  });

  test('a 3 MiB write goes through in one piece and reads back', async () => {
    const p = path.join(dir, 'big-write');
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    const [r] = await io.batchWrite([{ path: p, data, sync: true }]);
    expect(r).toEqual({ ok: true, bytes: data.length });
    expect(Buffer.compare(fs.readFileSync(p), data)).toBe(0);
  });

  test('failed writes stay in their slot', async () => {
    const r = await io.batchWrite([
      { path: path.join(dir, 'no-such-dir', 'x'), data: Buffer.from('x') },
      { path: path.join(dir, 'fine-w'), data: Buffer.from('y') },
      { path: dir, data: Buffer.from('z') },
      { path: path.join(dir, 'bad-data'), data: 'not bytes' as unknown as Uint8Array },
    ]);
    expect(r.map((x) => (x.ok ? x.bytes : `${x.error.category}:${String(x.error.context.code ?? '')}`))).toEqual([
      'filesystem:ENOENT',
      1,
      'filesystem:EISDIR',
      'validation:',
    ]);
  });
});

linuxOnly('readFd / cancelFd (the watcher reads inotify through these)', () => {
  test('a plain READ at the current position, then EOF', async () => {
    const p = path.join(dir, 'plain');
    fs.writeFileSync(p, 'hello world');
    const fd = fs.openSync(p, 'r');
    try {
      const buf = Buffer.alloc(5);
      expect(await io.readFd(fd, buf)).toBe(5);
      expect(buf.toString()).toBe('hello');
      expect(await io.readFd(fd, buf)).toBe(5);
      expect(buf.toString()).toBe(' worl');
      expect(await io.readFd(fd, Buffer.alloc(100))).toBe(1);
      expect(await io.readFd(fd, Buffer.alloc(100))).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    expect(await io.readFd(9999, Buffer.alloc(4))).toBe(-9); // EBADF as a result, not a throw
  });

  test('a READ that waits on a pipe completes when data arrives, and cancelFd ends one that never would', async () => {
    // A FIFO opened O_RDWR never blocks the open and never sees EOF.
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    try {
      const buf = Buffer.alloc(16);
      const pending = io.readFd(fd, buf);
      await new Promise((r) => setTimeout(r, 20));
      fs.writeSync(fd, 'ping');
      expect(await pending).toBe(4);
      expect(buf.subarray(0, 4).toString()).toBe('ping');
      const stuck = io.readFd(fd, Buffer.alloc(16));
      await new Promise((r) => setTimeout(r, 20));
      expect(io.stats().plainReads).toBe(1);
      await io.cancelFd(fd);
      expect(await stuck).toBe(-125);
      expect(io.stats().plainReads).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });
});

linuxOnly('nothing left behind', () => {
  test('close() unmaps the ring, closes its fd, releases handles and resolves pending readFd', async () => {
    const fds0 = openFdCount();
    const maps0 = ioUringMappings();
    const uringFds0 = ioUringFds();
    const rm = new ResourceManager({ maxHandles: 16 });
    const b = createIoUringBackend({ resources: rm });
    expect(ioUringMappings()).toBeGreaterThan(maps0);
    expect(ioUringFds()).toBe(uringFds0 + 1);
    const p = path.join(dir, 'leak');
    await b.writeAll(p, Buffer.from('x'));
    const fifo = path.join(dir, 'fifo2');
    execFileSync('mkfifo', [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    const pending = b.readFd(fd, Buffer.alloc(8));
    const reads = b.batchRead([p, p, p]);
    await b.close();
    expect(await pending).toBe(-125);
    expect((await reads).every((r) => r.ok)).toBe(true);
    fs.closeSync(fd);
    expect(ioUringMappings()).toBe(maps0);
    expect(ioUringFds()).toBe(uringFds0);
    expect(openFdCount()).toBe(fds0);
    expect(rm.stats().inUse).toBe(0);
    await b.close(); // twice is fine
    await expect(b.batchRead([p])).rejects.toMatchObject({ name: 'ForgeError' });
  });

  test('close() gives up on work that never finishes (a FIFO nobody writes) after closeTimeoutMs', async () => {
    const fifo = path.join(dir, 'never-written');
    execFileSync('mkfifo', [fifo]);
    const uringFds0 = ioUringFds();
    const rm = new ResourceManager({ maxHandles: 4 });
    const b = createIoUringBackend({ resources: rm, closeTimeoutMs: 200, smallBatchSync: 0 });
    const stuck = b.batchRead([fifo]); // OPENAT(O_RDONLY) on a FIFO blocks in an io-wq worker
    await new Promise((r) => setTimeout(r, 50));
    await b.close();
    const [r] = await stuck;
    expect(r?.ok).toBe(false);
    if (r && !r.ok) expect(r.error.category).toBe('timeout');
    expect(rm.stats().inUse).toBe(0);
    expect(ioUringFds()).toBe(uringFds0);
  });

  test('process exit with a live ring and a pending read exits cleanly (no abort)', () => {
    const dist = path.resolve('dist/host/native/linux/io-uring-backend.js');
    ensureDist();
    const fifo = path.join(dir, 'exit-fifo');
    execFileSync('mkfifo', [fifo]);
    const file = path.join(dir, 'exit-file');
    fs.writeFileSync(file, 'data');
    const script = `
      import { createIoUringBackend } from ${JSON.stringify(dist)};
      import fs from 'node:fs';
      const [file, fifo] = process.argv.slice(1);
      // libuv on Node >= 22 may hold io_uring rings of its own: count only the one this backend adds.
      const rings = () => fs.readdirSync('/proc/self/fd').map((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f); } catch { return ''; } }).filter((t) => t.includes('io_uring')).length;
      fs.readFileSync(file); await fs.promises.readFile(file); // let libuv set up whatever it sets up
      const before = rings();
      const io = createIoUringBackend();
      const [r] = await io.batchRead([file]);
      console.log(JSON.stringify({ ok: r.ok, uring: rings() - before }));
      const fd = fs.openSync(fifo, fs.constants.O_RDWR);
      io.readFd(fd, Buffer.alloc(8)); // pending forever, and ref'd: only exit() ends this process
      setTimeout(() => process.exit(0), 50).unref();
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script, file, fifo], { encoding: 'utf8', timeout: 30_000 });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout.trim())).toEqual({ ok: true, uring: 1 });
  });

  test("an idle backend that is never closed does not keep the process alive (poll handle unref'd)", () => {
    ensureDist();
    const dist = path.resolve('dist/host/native/linux/io-uring-backend.js');
    const file = path.join(dir, 'idle-file');
    fs.writeFileSync(file, 'data');
    const script = `
      import { createIoUringBackend } from ${JSON.stringify(dist)};
      const io = createIoUringBackend();
      const [r] = await io.batchRead([process.argv[1]]);
      await io.batchWrite([{ path: process.argv[1], data: Buffer.from('new'), sync: true }]);
      console.log(r.ok ? 'read' : 'failed');
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: 30_000 });
    expect(res.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe('read');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
  });
});
