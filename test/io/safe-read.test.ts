/**
 * Safe batch reads (`batchRead(paths, { safe: true })`) on every backend that runs here, against a
 * tree someone else is changing: a swapper process replacing a file with a symlink to an outside
 * file, FIFOs, sockets and devices, and a writer truncating and extending a file while it is read.
 * Expected contents come from what the test (or its child) wrote, and identities from Node's own
 * `fs.statSync(..., { bigint: true })`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createKqueueBackend } from '../../host/native/darwin/kqueue-backend.js';
import { kqueueLibSpec } from '../../host/native/darwin/kqueue-lib.js';
import type { PlatformIO, ReadResult } from '../../host/node/base/platform-io.js';
import { BACKENDS, removeDir, tempDir } from './helpers.js';
import { requireTool } from '../support/reference-tools.js';

const onLinux = process.platform === 'linux';
const hasMkfifo = onLinux && requireTool('mkfifo', 'coreutils', 'safe reads of a FIFO swapped into the tree');

/** Every backend of this machine, plus the positional backend (kqueue's driver on libc). */
const CASES: Array<{ name: string; make(): Promise<PlatformIO> | PlatformIO }> = [
  ...BACKENDS.map((b) => ({ name: b.name, make: () => b.make() })),
  { name: 'positional (kqueue driver on libc)', make: () => createKqueueBackend({ lib: kqueueLibSpec('linux'), maxHandles: 64 }) },
];

let dir: string;
beforeAll(() => {
  dir = tempDir('safe');
});
afterAll(() => removeDir(dir));

function codeOf(r: ReadResult): string | undefined {
  return r.ok ? undefined : String(r.error.context.code);
}

/** Starts `node -e script args...` and returns it; killed by pid in `stop`. */
function child(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

// Replaces `target` over and over: a regular file (rename of a fresh file), then a symlink to `outside`.
const SWAPPER = `
const fs = require('fs');
const [target, outside] = process.argv.slice(1);
for (let i = 0; ; i++) {
  const t = target + '.tmp';
  try { fs.rmSync(t, { force: true }); } catch {}
  if (i % 2) fs.symlinkSync(outside, t); else fs.writeFileSync(t, 'inside ' + i);
  fs.renameSync(t, target);
}`;

// Rewrites `target` in place (truncate to 0, then one write) with version k = versions(k), forever.
// Versions are at most one page, so every state the file passes through is "" or a whole version.
const WRITER = `
const fs = require('fs');
const [target] = process.argv.slice(1);
const fd = fs.openSync(target, 'r+');
for (let k = 0; ; k++) {
  const len = 16 + ((k * 769) % 4000);
  const v = Buffer.alloc(len, 'v' + k + ':');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, v, 0, len, 0);
}`;

/** Version k as WRITER writes it. */
function isWriterVersion(b: Buffer): boolean {
  if (b.length === 0) return true; // between the truncate and the write: a state the file really had
  const m = /^v(\d+):/.exec(b.subarray(0, 16).toString('latin1'));
  if (!m) return false;
  const k = Number(m[1]);
  const len = 16 + ((k * 769) % 4000);
  return b.equals(Buffer.alloc(len, `v${k}:`));
}

describe.runIf(onLinux)('safe batch reads', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      let io: PlatformIO;
      let sub: string;
      beforeAll(async () => {
        io = await c.make();
        sub = fs.mkdtempSync(path.join(dir, 'b-'));
      });
      afterAll(async () => io?.close());

      test('a regular file: its bytes and the identity of the fd they came from (as fs.statSync says)', async () => {
        const p = path.join(sub, 'plain');
        fs.writeFileSync(p, Buffer.alloc(100_000, 7));
        const [r] = await io.batchRead([p], { safe: true });
        expect(r!.ok).toBe(true);
        if (!r!.ok) return;
        expect(Buffer.from(r!.data).equals(fs.readFileSync(p))).toBe(true);
        const st = fs.statSync(p, { bigint: true });
        expect(r!.identity).toEqual({ dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: Number(st.mode) });
      });

      test('a symlink is not followed (ELOOP); a directory, /dev/null and a socket are ENOTREG; a missing file is ENOENT', async () => {
        const secret = path.join(dir, `secret-${c.name.length}`);
        fs.writeFileSync(secret, 'SECRET');
        const link = path.join(sub, 'link');
        fs.symlinkSync(secret, link);
        const sock = path.join(sub, 'sock');
        const server = net.createServer();
        await new Promise<void>((r) => server.listen(sock, r));
        try {
          const rs = await io.batchRead([link, sub, '/dev/null', sock, path.join(sub, 'nope')], { safe: true });
          expect(rs.map(codeOf)).toEqual(['ELOOP', 'ENOTREG', 'ENOTREG', 'ENOTREG', 'ENOENT']);
          expect(rs.every((r) => !r.ok && r.error.category === 'filesystem')).toBe(true);
          // The same paths without `safe` follow the link: the difference the option makes.
          const [plain] = await io.batchRead([link]);
          expect(plain!.ok && Buffer.from(plain!.data).toString()).toBe('SECRET');
        } finally {
          server.close();
        }
      });

      test.runIf(hasMkfifo)(
        'a FIFO (no writer) does not hang the read: ENOTREG',
        async () => {
          const fifo = path.join(sub, 'fifo');
          expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
          const rs = await io.batchRead([fifo, fifo, fifo, fifo, fifo, fifo], { safe: true });
          expect(rs.map(codeOf)).toEqual(Array(6).fill('ENOTREG'));
        },
        15_000,
      );

      test('a swapper replaces the file with a symlink to an outside file between lstat and read: the outside bytes are never returned', async () => {
        const outside = path.join(dir, `outside-${c.name.length}`);
        fs.writeFileSync(outside, 'OUTSIDE-ROOT-ONLY');
        const target = path.join(sub, 'swapped');
        fs.writeFileSync(target, 'inside 0');
        const swapper = child(SWAPPER, [target, outside]);
        const seen = { ok: 0, eloop: 0, other: 0, linkAfterRegularLstat: 0 };
        let plainLeaks = 0;
        try {
          for (let i = 0; i < 40_000 && (seen.ok < 20 || seen.eloop < 20 || plainLeaks === 0); i++) {
            let wasRegular = false;
            try {
              wasRegular = fs.lstatSync(target).isFile();
            } catch {
              continue; // between the rmSync and the rename of the swapper's temp name
            }
            const [r] = (await io.batchRead([target], { safe: true })) as [ReadResult];
            // A plain read in the same race, as a control: it follows the link when the swap wins.
            const control = i % 4 === 0 ? (await io.batchRead([target]))[0] : undefined;
            if (r.ok) {
              expect(Buffer.from(r.data).toString()).toMatch(/^inside \d+$/);
              seen.ok++;
            } else if (codeOf(r) === 'ELOOP') {
              seen.eloop++;
              if (wasRegular) seen.linkAfterRegularLstat++;
            } else seen.other++;
            if (control?.ok && Buffer.from(control.data).toString() === 'OUTSIDE-ROOT-ONLY') plainLeaks++;
          }
        } finally {
          await stop(swapper);
        }
        // Both states were met by the safe read, and the same race makes a plain read leak.
        expect(seen.ok).toBeGreaterThan(0);
        expect(seen.eloop).toBeGreaterThan(0);
        expect(plainLeaks).toBeGreaterThan(0);
      }, 60_000);

      test('a writer truncating and rewriting the file during the reads: every returned content is a state the file had', async () => {
        const target = path.join(sub, 'rewritten');
        fs.writeFileSync(target, Buffer.alloc(16, 'v0:'));
        const writer = child(WRITER, [target]);
        let ok = 0;
        let changed = 0;
        try {
          for (let i = 0; i < 1500; i++) {
            const rs = await io.batchRead([target, target, target], { safe: true });
            for (const r of rs) {
              if (r.ok) {
                const b = Buffer.from(r.data);
                if (!isWriterVersion(b))
                  throw new Error(`a version that never existed: ${b.length} bytes, starts ${JSON.stringify(b.subarray(0, 12).toString('latin1'))}`);
                expect(r.identity!.size).toBe(BigInt(b.length));
                ok++;
              } else {
                expect(codeOf(r)).toBe('ECHANGED');
                expect(r.error.isRetryable()).toBe(true);
                changed++;
              }
            }
          }
        } finally {
          await stop(writer);
        }
        expect(ok).toBeGreaterThan(0);
        expect(ok + changed).toBe(4500);
      }, 120_000);

      test('property: on ordinary files a safe read returns what a plain read returns (100 runs)', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 96 * 1024 }), { minLength: 1, maxLength: 6 }), async (contents) => {
            const d = path.join(sub, `prop-${run++}`);
            fs.mkdirSync(d);
            const paths = contents.map((data, i) => {
              const p = path.join(d, `f${i}`);
              fs.writeFileSync(p, data);
              return p;
            });
            const [safe, plain] = [await io.batchRead(paths, { safe: true }), await io.batchRead(paths)];
            for (let i = 0; i < paths.length; i++) {
              const s = safe[i]!;
              const p = plain[i]!;
              expect(s.ok && p.ok).toBe(true);
              if (!s.ok || !p.ok) return;
              expect(Buffer.from(s.data).equals(Buffer.from(p.data))).toBe(true);
              expect(Buffer.from(s.data).equals(Buffer.from(contents[i]!))).toBe(true);
              const st = fs.statSync(paths[i]!, { bigint: true });
              expect([s.identity!.dev, s.identity!.ino, s.identity!.size]).toEqual([st.dev, st.ino, st.size]);
            }
          }),
          { numRuns: 100 },
        );
      }, 120_000);
    });
  }
});
