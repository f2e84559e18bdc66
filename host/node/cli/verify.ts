/**
 * `forge verify [--repair]`: checks every object (decode + SHA-256), every
 * manifest, and every index row against the store; names each problem and
 * the file versions it affects; exits 1 if anything is wrong.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { VerifyProblem } from '../store/verify.js';
import type { ContentStore } from '../history/content-store.js';
import { verifySnapshot } from '../index-db/queries.js';
import type { CommandSpec } from './command.js';
import { openContent, openIndex } from './open.js';
import { Progress } from '../term/progress.js';
import { formatBytes } from '../term/output.js';

export const spec: CommandSpec = {
  name: 'verify',
  summary: 'Check every object and index row; --repair fixes what it can.',
  args: '',
  description: [
    'Reads every object in the store, decodes it and checks its SHA-256 against its name; checks every chunked-file manifest; and checks that every version in the index has its content in the store.',
    'Reports each corrupt, missing or stray object and each index row without its object, naming the file versions affected. Exits 0 when everything is intact, 1 otherwise.',
    '--repair re-stores damaged or missing content from the working tree when a file there still has exactly that content (hash-checked), and moves stray files and interrupted writes to <store>/lost+found/. Content that exists nowhere else cannot be repaired; it is listed.',
  ].join('\n'),
  options: {
    repair: { type: 'boolean', description: 'Fix what can be fixed (see above), then verify again.' },
    json: { type: 'boolean', description: 'Print the report as JSON.' },
    full: { type: 'boolean', description: "Check the index with SQLite's full integrity_check (default: quick_check)." },
  },
  minPositionals: 0,
  maxPositionals: 0,
  examples: ['forge verify', 'forge verify --repair', 'forge verify --json | jq .problems'],
  async run(ctx) {
    const opened = await openIndex(ctx, { forReading: ctx.values['repair'] !== true });
    const { index, root, storeDir } = opened;
    const store = await openContent(opened);
    try {
      const indexProblems = await index.checkIntegrity({ full: ctx.values['full'] === true });
      if (indexProblems.length > 0) {
        for (const p of indexProblems.slice(0, 20)) ctx.stdout.write(`INDEX CORRUPT: ${indexFile(storeDir)}: ${p}\n`);
        ctx.stderr.write(
          `forge: the index ${indexFile(storeDir)} is damaged (${indexProblems.length} problem(s) found by SQLite); category integrity.\n` +
            "  hint: restore index.db from a backup, or run 'forge index rebuild --force' (the damaged index is kept aside).\n",
        );
        return 1;
      }
      let users = new Map<string, Array<{ path: string; seq: number }>>();
      const check = async () => {
        // One read transaction: a consistent view while `forge watch` records.
        const snap = await verifySnapshot(index);
        users = snap.users;
        const expected = snap.expected;
        const progress = new Progress({ label: 'verify', stream: ctx.stderr });
        let last = 0;
        const report = await store.verify({
          expected,
          onProgress: (p) => {
            if (last === 0) progress.setTotals(p.total);
            progress.tick(p.checked - last, 0);
            last = p.checked;
          },
        });
        progress.done();
        return report;
      };
      let report = await check();
      const affected = (p: VerifyProblem): string[] => (p.hash ? (users.get(p.hash) ?? []).map((u) => `${u.path}@${u.seq}`) : []);
      const repaired: string[] = [];
      if (ctx.values['repair'] && !report.ok) {
        repaired.push(...(await repair(report.problems, users, root, storeDir, store)));
        report = await check();
      }
      if (ctx.values['json']) {
        ctx.stdout.write(JSON.stringify({ ...report, repaired, problems: report.problems.map((p) => ({ ...p, versions: affected(p) })) }, null, 2) + '\n');
        return report.ok ? 0 : 1;
      }
      for (const r of repaired) ctx.stdout.write(`repaired: ${r}\n`);
      for (const p of report.problems) {
        const versions = affected(p);
        ctx.stdout.write(`${p.kind.toUpperCase()}: ${path.relative(ctx.cwd, p.path) || p.path}${p.hash ? ` (${p.hash})` : ''}: ${p.detail}\n`);
        if (versions.length > 0) {
          const shown = versions.slice(0, 10).join(', ');
          ctx.stdout.write(`  index rows without their object: ${shown}${versions.length > 10 ? ` and ${versions.length - 10} more` : ''}\n`);
        }
      }
      const summary =
        `verify: ${report.objects} objects (${formatBytes(report.bytes)}), ${report.manifests} manifests: ` +
        (report.ok ? 'all intact' : `${report.corrupt} corrupt, ${report.missing} missing, ${report.stray} stray, ${report.tmp} interrupted writes`);
      ctx.stdout.write(summary + '\n');
      if (!report.ok) {
        ctx.stderr.write(
          ctx.values['repair']
            ? 'forge: some problems could not be repaired (the content exists nowhere else); see above.\n'
            : "forge: the store has problems; run 'forge verify --repair' to fix what can be fixed.\n",
        );
      }
      return report.ok ? 0 : 1;
    } finally {
      await store.close();
      await index.close();
    }
  },
};

function indexFile(storeDir: string): string {
  return path.join(storeDir, 'index.db');
}

/** Re-stores content from the working tree; moves strays and tmp leftovers aside. */
async function repair(
  problems: readonly VerifyProblem[],
  users: Map<string, Array<{ path: string; seq: number }>>,
  root: string,
  storeDir: string,
  store: Pick<ContentStore, 'putMany' | 'putFile' | 'stat'>,
): Promise<string[]> {
  const done: string[] = [];
  const lostFound = path.join(storeDir, 'lost+found');
  const fixed = new Set<string>(); // a corrupt object is also reported missing: repair it once
  for (const p of problems) {
    if (p.kind === 'stray' || p.kind === 'tmp') {
      fs.mkdirSync(lostFound, { recursive: true });
      const dest = path.join(lostFound, `${Date.now()}-${path.basename(p.path)}`);
      fs.renameSync(p.path, dest);
      done.push(`moved ${p.path} to ${dest}`);
      continue;
    }
    if (!p.hash || fixed.has(p.hash)) continue;
    for (const u of users.get(p.hash) ?? []) {
      const abs = path.join(root, ...u.path.split('/'));
      let data: Buffer;
      try {
        data = fs.readFileSync(abs);
      } catch {
        continue;
      }
      if (createHash('sha256').update(data).digest('hex') !== p.hash) continue;
      // A corrupt object under the final name must go first, or the store may keep it.
      if (p.kind === 'corrupt') fs.rmSync(p.path, { force: true });
      await store.putMany([data]);
      done.push(`${p.hash} re-stored from ${u.path}`);
      fixed.add(p.hash);
      break;
    }
  }
  done.push(...(await repairChunked(problems, fixed, users, root, store)));
  return done;
}

/**
 * A damaged or missing chunk or manifest belongs to no version by its own hash: re-chunk every
 * tree file whose content is chunked and still exactly what was recorded (hash-checked, streamed);
 * the store rewrites the chunks and manifest that are damaged or missing and keeps the rest.
 */
async function repairChunked(
  problems: readonly VerifyProblem[],
  fixed: ReadonlySet<string>,
  users: Map<string, Array<{ path: string; seq: number }>>,
  root: string,
  store: Pick<ContentStore, 'putFile' | 'stat'>,
): Promise<string[]> {
  const open = problems.filter((p) => p.hash && !fixed.has(p.hash) && (p.kind === 'corrupt' || p.kind === 'missing'));
  if (open.length === 0) return [];
  const done: string[] = [];
  for (const [hash, list] of users) {
    let chunked: boolean;
    try {
      chunked = (await store.stat(hash))?.chunked ?? false;
    } catch {
      chunked = true; // its manifest does not read: exactly what a re-chunk repairs
    }
    if (!chunked) continue;
    for (const u of list) {
      const abs = path.join(root, ...u.path.split('/'));
      if ((await fileSha256(abs)) !== hash) continue;
      const put = await store.putFile(abs, { safe: true });
      if (put.hash !== hash) continue; // changed meanwhile
      done.push(`${hash} re-chunked from ${u.path} (${put.chunks} chunks checked)`);
      break;
    }
  }
  return done;
}

/** SHA-256 of a file, streamed; undefined when it cannot be read. */
async function fileSha256(file: string): Promise<string | undefined> {
  try {
    const h = createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch {
    return undefined;
  }
}
