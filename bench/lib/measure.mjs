// Wall time and peak RSS of one child process, for bench:daemon and bench:scale.
// Peak RSS is the kernel's own figure: ru_maxrss from wait4 through GNU time (`/usr/bin/time -v`,
// Debian package `time`) when it is installed, else VmHWM read from /proc/<pid>/status every 10 ms
// while the child runs (it can miss a peak in the last 10 ms).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

const GNU_TIME = '/usr/bin/time';
export const rssSource = fs.existsSync(GNU_TIME) ? 'GNU time (ru_maxrss)' : '/proc/<pid>/status VmHWM polled every 10 ms (apt-get install time for ru_maxrss)';

/**
 * Runs `cmd args` to completion; resolves to { ms, rssKiB, status, stdout, stderr }.
 * Rejects when the command cannot be started.
 */
export function measure(cmd, args, options = {}) {
  const useTime = fs.existsSync(GNU_TIME);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '__forge_bench_maxrss_kib=%M', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let polled = 0;
    const timer = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) polled = Math.max(polled, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 10);
    child.on('error', reject);
    child.on('close', (status) => {
      if (timer) clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rssKiB = polled;
      if (useTime) {
        const m = /__forge_bench_maxrss_kib=(\d+)/.exec(stderr);
        rssKiB = m ? Number(m[1]) : 0;
        stderr = stderr.replace(/.*__forge_bench_maxrss_kib=\d+\n?/, '');
      }
      resolve({ ms, rssKiB, status, stdout, stderr });
    });
  });
}

/** The 1-, 5- and 15-minute load averages and the core count, as one line. */
export function loadLine() {
  const [a, b, c] = os.loadavg();
  return `load average ${a.toFixed(2)} ${b.toFixed(2)} ${c.toFixed(2)} on ${os.cpus().length} cores`;
}

export const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
export const fmtMs = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
