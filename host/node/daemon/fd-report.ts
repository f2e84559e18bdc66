/**
 * The descriptors a process still has open on the store, the index or a watcher (inotify,
 * io_uring), read from /proc/self/fd: the daemon logs it as its last shutdown step under
 * `--debug`, so a leak of any of them at exit is visible (and tested). A ring counts only when Forge
 * opened it: Node 22 and later keep io_uring rings of their own per event loop.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { ownedFds } from '../base/owned-fds.js';

/** Targets of open fds that belong to the store or to a watcher/ring; empty where /proc is absent. */
export function openFdReport(storeDir: string): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  const store = path.resolve(storeDir) + path.sep;
  for (const fd of fds) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const ours = target.includes('io_uring') ? ownedFds().has(Number(fd)) : target.includes('inotify');
    if (target.startsWith(store) || ours) out.push(`${fd} -> ${target}`);
  }
  return out;
}
