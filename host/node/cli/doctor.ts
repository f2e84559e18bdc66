/**
 * `forge doctor`: checks what `forge watch` depends on and prints, for each
 * problem, the command that fixes it. Exits 1 when a check fails (warnings
 * alone exit 0).
 */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandContext, CommandSpec } from './command.js';
import { formatBytes } from '../term/output.js';
import { STORE_DIR_NAME } from './paths.js';

type Status = 'ok' | 'warn' | 'fail' | 'info';

interface Check {
  name: string;
  status: Status;
  detail: string;
  /** Commands or steps that fix it. */
  fix?: string[];
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** RLIMIT_NOFILE from /proc/self/limits (Linux), else undefined. */
function nofileLimit(): { soft: number; hard: number } | undefined {
  try {
    const line = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line && /Max open files\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) return undefined;
    const cvt = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: cvt(m[1]!), hard: cvt(m[2]!) };
  } catch {
    return undefined;
  }
}

/** The smallest power of two >= max(n, floor). */
function roomFor(n: number, floor: number): number {
  let v = floor;
  while (v < n) v *= 2;
  return v;
}

function sysctlFix(key: string, value: number): string[] {
  return [`sudo sysctl ${key}=${value}`, `echo ${key}=${value} | sudo tee /etc/sysctl.d/60-forge.conf   # keep it after a reboot`];
}

async function runChecks(ctx: CommandContext): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push({
    name: 'platform',
    status: 'info',
    detail: `${process.platform} ${process.arch}, kernel ${os.release()}, Node ${process.version}, ${os.cpus().length} CPUs`,
  });

  // Configuration (the one `forge watch` would use here).
  const { resolveWatchConfig } = await import('./watch.js');
  const { ConfigError } = await import('../runtime/config/index.js');
  let root = path.resolve(ctx.cwd, typeof ctx.values['root'] === 'string' ? ctx.values['root'] : (ctx.positionals[0] ?? '.'));
  let storeDir = typeof ctx.values['store'] === 'string' ? path.resolve(ctx.cwd, ctx.values['store']) : path.join(root, STORE_DIR_NAME);
  let ignore: string[] = [];
  let maxFileHandles = 1024;
  let backendWanted: string | undefined;
  try {
    const { config, file } = await resolveWatchConfig(ctx);
    root = config.watchRoot;
    storeDir = config.storeDir;
    ignore = config.ignore;
    maxFileHandles = config.maxFileHandles;
    backendWanted = config.ioBackend;
    checks.push({
      name: 'config',
      status: 'ok',
      detail: `valid${file ? ` (${file})` : ' (defaults, FORGE_* variables and flags)'}; tree ${root}, store ${storeDir}`,
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    checks.push({
      name: 'config',
      status: 'fail',
      detail: e.issues.map((i) => `${i.field}: ${i.problem} (valid: ${i.valid})${i.source ? ` [from ${i.source}]` : ''}`).join('; '),
      fix: ['Fix the listed fields in forge.config.json, the FORGE_* variables or the flags (see `forge watch --help`).'],
    });
  }

  // I/O backend selection.
  try {
    const { openPlatformIO } = await import('../io/open-platform.js');
    const choice = await openPlatformIO({ ...(backendWanted ? { backend: backendWanted } : {}) });
    await choice.io.close();
    const rejected = choice.rejected.map((r) => `${r.backend}: ${r.reason}`).join('; ');
    const degraded = choice.io.backend === 'fallback' && process.platform === 'linux' && !choice.forced;
    checks.push({
      name: 'I/O backend',
      status: degraded ? 'warn' : 'ok',
      detail: `${choice.io.backend}${choice.forced ? ' (forced)' : ''}; rejected: ${rejected || 'none'}`,
      ...(degraded
        ? {
            fix: [
              'io_uring was rejected for the reason above; e.g. `sudo sysctl kernel.io_uring_disabled=0` if it is disabled, or run outside a seccomp sandbox that blocks io_uring_setup.',
            ],
          }
        : {}),
    });
  } catch (e) {
    checks.push({
      name: 'I/O backend',
      status: 'fail',
      detail: e instanceof Error ? e.message : String(e),
      fix: ['Reinstall dependencies with `npm ci`, or set FORGE_IO_BACKEND=fallback.'],
    });
  }

  // inotify limits against the tree.
  let dirs: number | undefined;
  if (fs.existsSync(root)) {
    const { countDirectories } = await import('../history/tree-scan.js');
    dirs = countDirectories(root, { ignore, storeDir });
  }
  if (process.platform === 'linux') {
    const base = '/proc/sys/fs/inotify';
    const watches = readNumber(`${base}/max_user_watches`);
    const queued = readNumber(`${base}/max_queued_events`);
    const instances = readNumber(`${base}/max_user_instances`);
    if (watches !== undefined && dirs !== undefined) {
      const enough = watches >= dirs * 1.25 + 1024; // other programs (editors, IDEs) use watches too
      checks.push({
        name: 'inotify watches',
        status: enough ? 'ok' : watches >= dirs ? 'warn' : 'fail',
        detail: `fs.inotify.max_user_watches = ${watches}; the tree needs ${dirs} (one per directory, ignores applied)`,
        ...(enough ? {} : { fix: sysctlFix('fs.inotify.max_user_watches', roomFor(dirs * 2, 524_288)) }),
      });
    }
    if (queued !== undefined) {
      const ok = queued >= 16_384;
      checks.push({
        name: 'inotify queue',
        status: ok ? 'ok' : 'warn',
        detail: `fs.inotify.max_queued_events = ${queued}${ok ? '' : ' (bursts overflow the queue; Forge then rescans the tree, which is correct but slow)'}`,
        ...(ok ? {} : { fix: sysctlFix('fs.inotify.max_queued_events', 16_384) }),
      });
    }
    if (instances !== undefined) {
      const ok = instances >= 128;
      checks.push({
        name: 'inotify instances',
        status: ok ? 'ok' : 'warn',
        detail: `fs.inotify.max_user_instances = ${instances} (each forge watch uses 1)`,
        ...(ok ? {} : { fix: sysctlFix('fs.inotify.max_user_instances', 128) }),
      });
    }
  } else if (dirs !== undefined) {
    checks.push({ name: 'tree', status: 'info', detail: `${dirs} directories to watch` });
  }

  const nofile = nofileLimit();
  if (nofile) {
    const need = maxFileHandles + 64; // the handle budget plus the index, sockets and the watcher
    const ok = nofile.soft >= need;
    checks.push({
      name: 'open files (RLIMIT_NOFILE)',
      status: ok ? 'ok' : 'warn',
      detail: `soft ${nofile.soft}, hard ${nofile.hard}; Forge may hold ${maxFileHandles} files open (maxFileHandles) plus ~64`,
      ...(ok
        ? {}
        : {
            fix:
              nofile.hard >= need
                ? [`ulimit -n ${need}   # in the shell that starts forge watch`]
                : [
                    `ulimit -n ${nofile.hard} && forge watch --max-file-handles ${Math.max(16, nofile.hard - 64)}`,
                    'or raise the hard limit in /etc/security/limits.conf (nofile) or LimitNOFILE= in the systemd unit',
                  ],
          }),
    });
  }

  // Store health (quick).
  checks.push(...(await storeChecks(storeDir, root)));
  return checks;
}

async function storeChecks(storeDir: string, root: string): Promise<Check[]> {
  const out: Check[] = [];
  if (!fs.existsSync(storeDir)) {
    out.push({ name: 'store', status: 'info', detail: `no store yet at ${storeDir}; \`forge watch ${root}\` creates it` });
    return out;
  }
  try {
    const st = fs.statfsSync(storeDir);
    const free = st.bavail * st.bsize;
    const low = free < 1024 ** 3;
    out.push({
      name: 'disk space',
      status: low ? 'warn' : 'ok',
      detail: `${formatBytes(free)} free where the store is`,
      ...(low ? { fix: ['Free space, or prune history: forge gc --keep 10'] } : {}),
    });
  } catch {
    /* statfs unsupported */
  }
  const { runningDaemon } = await import('../history/store-lock.js');
  const pid = runningDaemon(storeDir);
  out.push({ name: 'daemon', status: 'info', detail: pid ? `forge watch is running (pid ${pid})` : 'no forge watch is running on this store' });
  // The SQLite addon first: when it does not load, that is an installation problem, not a store problem.
  const addon = await sqliteAddonProblem();
  if (addon !== undefined) {
    out.push({
      name: 'sqlite',
      status: 'fail',
      detail: `the SQLite addon (better-sqlite3) does not load: ${addon}`,
      fix: ['npm rebuild better-sqlite3   # needs python3, make and g++ (Debian: apt-get install build-essential python3)', 'or reinstall: npm ci'],
    });
    out.push({ name: 'store', status: 'info', detail: 'not checked: the index cannot be opened without the SQLite addon (the store itself was not touched)' });
    return out;
  }
  let index;
  try {
    const { Index } = await import('../index-db/index.js');
    const { indexFileOf } = await import('./open.js');
    index = await Index.open(indexFileOf(storeDir));
    const s = await index.stats();
    const refs = [...(await index.referencedHashes())];
    // A quick sample, not a full verify: up to 32 referenced contents, read and hash-checked.
    const { openContentStore } = await import('../history/content-store.js');
    const store = await openContentStore(storeDir);
    const sample = refs.sort(() => Math.random() - 0.5).slice(0, 32);
    const bad: string[] = [];
    try {
      for (const h of sample) {
        try {
          await store.get(h);
        } catch {
          bad.push(h);
        }
      }
    } finally {
      await store.close();
    }
    let tmp = 0;
    try {
      tmp = fs.readdirSync(path.join(storeDir, 'objects', 'tmp')).length;
    } catch {
      tmp = 0;
    }
    out.push({
      name: 'store',
      status: bad.length > 0 ? 'fail' : 'ok',
      detail:
        `${s.files} files, ${s.versions} versions, ${s.blobs} contents; sampled ${sample.length}: ` +
        (bad.length > 0 ? `${bad.length} unreadable (${bad.slice(0, 3).join(', ')})` : 'all verified') +
        (tmp > 0 ? `; ${tmp} interrupted writes in objects/tmp` : ''),
      ...(bad.length > 0 ? { fix: ['forge verify            # full report', 'forge verify --repair   # re-store from the working tree where possible'] } : {}),
    });
  } catch (e) {
    out.push({
      name: 'store',
      status: 'fail',
      detail: e instanceof Error ? e.message : String(e),
      fix: [
        'forge verify            # what is damaged, and what it affects',
        'forge index rebuild     # if the index is missing or damaged: recovers what the objects can tell',
      ],
    });
  } finally {
    await index?.close();
  }
  return out;
}

/** Why the SQLite addon cannot be loaded and used, or undefined when it works. */
async function sqliteAddonProblem(): Promise<string | undefined> {
  try {
    const mod = (await import('better-sqlite3')) as unknown as { default: new (file: string) => { close(): void } };
    new mod.default(':memory:').close();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}

export const spec: CommandSpec = {
  name: 'doctor',
  summary: 'Check the platform, limits, config and store; print fixes.',
  args: '[dir]',
  description: [
    'Checks: platform and kernel; the I/O backend this machine selects and why the others were rejected; inotify limits (max_user_watches, max_queued_events, max_user_instances) against the number of directories in the tree; RLIMIT_NOFILE against maxFileHandles; the configuration `forge watch` would use; free disk space; and a quick health check of the store (a sample of objects read and hash-checked).',
    'Every problem comes with the command that fixes it. Exits 1 if a check fails, 0 otherwise (warnings included).',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'Print the checks as JSON.' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  examples: ['forge doctor', 'forge doctor ~/project', 'forge doctor --json'],
  async run(ctx) {
    const checks = await runChecks(ctx);
    const failed = checks.some((c) => c.status === 'fail');
    if (ctx.values['json']) {
      ctx.stdout.write(JSON.stringify({ ok: !failed, checks }, null, 2) + '\n');
      return failed ? 1 : 0;
    }
    const label: Record<Status, string> = { ok: ' ok ', warn: 'WARN', fail: 'FAIL', info: ' -- ' };
    for (const c of checks) {
      ctx.stdout.write(`[${label[c.status]}] ${c.name}: ${c.detail}\n`);
      for (const f of c.fix ?? []) ctx.stdout.write(`       fix: ${f}\n`);
    }
    const warns = checks.filter((c) => c.status === 'warn').length;
    const fails = checks.filter((c) => c.status === 'fail').length;
    ctx.stdout.write(fails + warns === 0 ? 'No problems found.\n' : `${fails} failed, ${warns} warnings.\n`);
    return failed ? 1 : 0;
  },
};
