/**
 * `verify`: walks every object and manifest ref, decodes and hashes each
 * object, and reports every corrupt, missing or stray entry and every tmp
 * leftover. It never changes the store.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../base/errors.js';
import { decodeManifest } from './chunking.js';
import type { Hasher } from './hasher.js';
import { listStoreDir, MANIFESTS_DIR, OBJECTS_DIR, TMP_DIR, isFanoutDir, isHash, isObjectFileName, objectPath } from './object-path.js';
import { heldByLiveWriter } from './leftovers.js';
import { readObjectSync, type ReadContext } from './read.js';

/** What `verify` found wrong: a corrupt, missing or stray object, or a tmp leftover. */
export type ProblemKind = 'corrupt' | 'missing' | 'stray' | 'tmp';

/** One problem `verify` found. */
export interface VerifyProblem {
  kind: ProblemKind;
  /** The file involved (for 'missing': where the object should be). */
  path: string;
  hash?: string;
  detail: string;
}

/** Progress of `verify`, after each entry checked. */
export interface VerifyProgress {
  checked: number;
  total: number;
  path: string;
  /** Set when this entry has a problem. */
  problem?: VerifyProblem;
}

/** Options of `verify`. */
export interface VerifyOptions {
  /** Called after each entry is checked. */
  onProgress?: (p: VerifyProgress) => void;
  /** Hashes that must be present (e.g. `await index.referencedHashes()`); absent ones are 'missing'. */
  expected?: Iterable<string>;
}

/** What `verify` checked and found. */
export interface VerifyReport {
  ok: boolean;
  objects: number;
  /** Bytes on disk of the objects checked. */
  bytes: number;
  manifests: number;
  problems: VerifyProblem[];
  corrupt: number;
  missing: number;
  stray: number;
  tmp: number;
}

interface Entry {
  kind: 'object' | 'stray' | 'tmp' | 'manifest';
  path: string;
  hash?: string;
}

function collect(root: string): Entry[] {
  const entries: Entry[] = [];
  const objects = join(root, OBJECTS_DIR);
  for (const name of listStoreDir(objects).sort()) {
    const p = join(objects, name);
    if (name === TMP_DIR) {
      for (const t of listStoreDir(p)) {
        // A write in progress (its writer is alive) is not a leftover.
        const st = statSync(join(p, t), { throwIfNoEntry: false });
        if (st === undefined || heldByLiveWriter(t, st.mtimeMs)) continue;
        entries.push({ kind: 'tmp', path: join(p, t) });
      }
      continue;
    }
    if (!isFanoutDir(name) || !statSync(p).isDirectory()) {
      entries.push({ kind: 'stray', path: p });
      continue;
    }
    for (const f of listStoreDir(p).sort()) {
      const fp = join(p, f);
      if (isObjectFileName(f)) entries.push({ kind: 'object', path: fp, hash: name + f });
      else entries.push({ kind: 'stray', path: fp });
    }
  }
  const manifests = join(root, MANIFESTS_DIR);
  for (const name of listStoreDir(manifests).sort()) {
    const p = join(manifests, name);
    if (!isFanoutDir(name)) {
      entries.push({ kind: 'stray', path: p });
      continue;
    }
    for (const f of listStoreDir(p).sort()) {
      const fp = join(p, f);
      if (isObjectFileName(f)) entries.push({ kind: 'manifest', path: fp, hash: name + f });
      else entries.push({ kind: 'stray', path: fp });
    }
  }
  return entries;
}

/**
 * Checks a whole store directory.
 *
 * @example
 * ```ts
 * const report = await store.verify({ onProgress: (p) => p.problem && console.error(p.problem) });
 * if (!report.ok) process.exitCode = 1;
 * ```
 */
export async function verifyStore(ctx: ReadContext, hasher: Hasher, options: VerifyOptions = {}): Promise<VerifyReport> {
  const entries = collect(ctx.root);
  const problems: VerifyProblem[] = [];
  const present = new Set<string>();
  /** Objects on disk that did not check out: reported once, as corrupt, never also as missing. */
  const damaged = new Set<string>();
  let objects = 0;
  let bytes = 0;
  let manifests = 0;
  let checked = 0;
  const total = entries.length;
  const report = (path: string, problem?: VerifyProblem): void => {
    if (problem) problems.push(problem);
    options.onProgress?.({ checked: ++checked, total, path, ...(problem ? { problem } : {}) });
  };
  const manifestEntries: Entry[] = [];
  for (const e of entries) {
    if (checked % 64 === 63) await new Promise((r) => setImmediate(r)); // stay responsive on big stores
    if (e.kind === 'tmp') {
      report(e.path, { kind: 'tmp', path: e.path, detail: 'leftover of an interrupted write (gc removes old ones)' });
    } else if (e.kind === 'stray') {
      report(e.path, { kind: 'stray', path: e.path, detail: 'not an object name (objects/<2 hex>/<62 hex>)' });
    } else if (e.kind === 'manifest') {
      manifestEntries.push(e);
    } else {
      objects++;
      try {
        bytes += statSync(e.path).size;
        readObjectSync(ctx, e.hash!, true);
        present.add(e.hash!);
        report(e.path);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        damaged.add(e.hash!);
        report(e.path, { kind: 'corrupt', path: e.path, hash: e.hash!, detail });
      }
    }
  }
  for (const e of manifestEntries) {
    manifests++;
    report(e.path, checkManifestRef(ctx, hasher, e.hash!, e.path, present, damaged));
  }
  if (options.expected) {
    const refs = new Set(manifestEntries.map((m) => m.hash!));
    for (const h of options.expected) {
      if (!isHash(h) || present.has(h) || refs.has(h) || damaged.has(h)) continue;
      const p = objectPath(ctx.root, h);
      problems.push({ kind: 'missing', path: p, hash: h, detail: 'referenced (e.g. by the index) but not in the store' });
    }
  }
  const count = (k: ProblemKind): number => problems.filter((p) => p.kind === k).length;
  return {
    ok: problems.length === 0,
    objects,
    bytes,
    manifests,
    problems,
    corrupt: count('corrupt'),
    missing: count('missing'),
    stray: count('stray'),
    tmp: count('tmp'),
  };
}

/** A manifest ref must name an intact manifest whose chunks exist and reassemble to the ref's name. */
function checkManifestRef(
  ctx: ReadContext,
  hasher: Hasher,
  fileHash: string,
  path: string,
  present: ReadonlySet<string>,
  damaged: ReadonlySet<string>,
): VerifyProblem | undefined {
  const text = readFileSync(path, 'utf8');
  const m = /^([0-9a-f]{64})\n$/.exec(text);
  if (!m) return { kind: 'corrupt', path, hash: fileHash, detail: 'manifest ref is not "<64 hex>\\n"' };
  const manifestHash = m[1]!;
  // A damaged manifest was reported as corrupt already; the ref needs no second line.
  if (damaged.has(manifestHash)) return undefined;
  if (!present.has(manifestHash)) {
    return { kind: 'missing', path: objectPath(ctx.root, manifestHash), hash: manifestHash, detail: `manifest of ${fileHash} is missing or corrupt` };
  }
  try {
    const manifest = decodeManifest(readObjectSync(ctx, manifestHash, false)!, objectPath(ctx.root, manifestHash));
    if (manifest.sha256 !== fileHash) {
      return { kind: 'corrupt', path, hash: fileHash, detail: `manifest ${manifestHash} describes ${manifest.sha256}` };
    }
    // Damaged chunks were reported as corrupt already; only absent ones are missing.
    if (manifest.chunks.some((c) => damaged.has(c.hash))) return undefined;
    const lost = manifest.chunks.filter((c) => !present.has(c.hash));
    if (lost.length > 0) {
      return {
        kind: 'missing',
        path: objectPath(ctx.root, lost[0]!.hash),
        hash: lost[0]!.hash,
        detail: `${lost.length} chunk(s) of ${fileHash} missing or corrupt`,
      };
    }
    const s = hasher.stream();
    for (const c of manifest.chunks) s.update(readObjectSync(ctx, c.hash, false)!);
    const actual = s.hex();
    if (actual !== fileHash) return { kind: 'corrupt', path, hash: fileHash, detail: `chunks reassemble to ${actual}` };
  } catch (err) {
    if (err instanceof ForgeError) return { kind: 'corrupt', path, hash: fileHash, detail: err.message };
    throw err;
  }
  return undefined;
}
