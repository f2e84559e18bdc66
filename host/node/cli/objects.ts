/** Resolving a short hash, as `git` does: a unique prefix of a stored object or recorded content. */
import * as fs from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { Index } from '../index-db/index.js';
import { MANIFESTS_DIR, OBJECTS_DIR } from '../store/object-path.js';
import { hashesWithPrefix } from '../index-db/queries.js';

/** The full hash a prefix (>= 6 hex digits) names; throws when none or several match. */
export async function resolveHashPrefix(storeDir: string, index: Index, prefix: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(prefix)) return prefix;
  const found = new Set<string>();
  const fan = prefix.slice(0, 2);
  const rest = prefix.slice(2);
  for (const sub of [OBJECTS_DIR, MANIFESTS_DIR]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(storeDir, sub, fan));
    } catch {
      names = [];
    }
    for (const n of names) if (n.startsWith(rest) && /^[0-9a-f]{62}$/.test(n)) found.add(fan + n);
  }
  for (const h of await hashesWithPrefix(index, prefix)) found.add(h);
  if (found.size === 1) return [...found][0]!;
  if (found.size === 0) {
    throw new ForgeError('validation', `no object or recorded content matches ${prefix}`, {
      context: { operation: 'cat', hash: prefix },
      suggestions: ['Copy the hash from `forge log <path> --json`, or use path@N.'],
    });
  }
  throw new ForgeError('validation', `${prefix} is ambiguous: ${found.size} objects match`, {
    context: { operation: 'cat', hash: prefix },
    suggestions: [
      `Give more digits, e.g. one of: ${[...found]
        .slice(0, 5)
        .map((h) => h.slice(0, prefix.length + 4))
        .join(', ')}`,
    ],
  });
}
