import ignore from 'ignore';

/**
 * Ignore patterns for the watcher, checked before a directory gets a watch
 * (so an ignored `node_modules` never costs an inotify watch) and before an
 * event becomes a change.
 */

/** Skipped unless the caller negates them with `!name`: dependencies, git metadata and Forge's store. */
export const DEFAULT_IGNORES: readonly string[] = ['node_modules', '.git', '.forge'];

/** Decides whether a root-relative, '/'-separated path is ignored. */
export interface IgnoreMatcher {
  (relPath: string): boolean;
  /**
   * Set when every pattern is a plain name: then an entry whose parent is not
   * ignored is ignored exactly when its own name is in this set (the scan's fast path).
   */
  readonly onlyNames?: ReadonlySet<string>;
}

/**
 * Builds the matcher. Strings are gitignore patterns (the `ignore` package, git's semantics): a
 * name without `/` matches at any depth and covers everything below it, a leading `/` anchors to
 * the root, `dir/` matches directories, `*`, `**`, `?`, `[ab]` as git does them, `!p` re-includes.
 * `!node_modules` (or another default) removes that default. A RegExp is tested on the relative path.
 *
 * @example
 * ```ts
 * const ignored = compileIgnore(['*.log', 'build/**']);
 * ignored('node_modules/x/index.js'); // true (default)
 * ignored('src/a.log');               // true
 * ```
 */
export function compileIgnore(patterns: ReadonlyArray<string | RegExp> | undefined): IgnoreMatcher {
  const negated = new Set<string>();
  const user: Array<string | RegExp> = [];
  for (const p of patterns ?? []) {
    if (typeof p === 'string' && p.startsWith('!') && DEFAULT_IGNORES.includes(p.slice(1))) negated.add(p.slice(1));
    else user.push(p);
  }
  const strings = [...DEFAULT_IGNORES.filter((d) => !negated.has(d)), ...user.filter((p): p is string => typeof p === 'string')];
  const regexps = user.filter((p): p is RegExp => p instanceof RegExp);
  if (strings.length === 0 && regexps.length === 0) return Object.assign(() => false, { onlyNames: new Set<string>() });
  // Plain names (no glob, slash or negation) keep the scan's fast path: a name matches any segment.
  const plain = strings.every((p) => !/[*?[\]{}/!\\]/.test(p) && !p.startsWith('#'));
  // Compiled on first use: a start whose patterns are all plain names checks names only (onlyNames).
  let ig: ReturnType<typeof ignore> | undefined;
  const matcher = (relPath: string): boolean => {
    if (relPath === '') return false;
    ig ??= ignore().add(strings);
    if (ig.ignores(relPath)) return true;
    for (const r of regexps) if (r.test(relPath)) return true;
    return false;
  };
  return plain && regexps.length === 0 ? Object.assign(matcher, { onlyNames: new Set(strings) }) : matcher;
}
