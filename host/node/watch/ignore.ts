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

/** Escapes a literal for a RegExp. */
function escapeRe(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/** `*` within a segment, `?` one char, `**` any number of segments. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a bare `**` anything.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

/**
 * Builds the matcher. A string without `/` or glob characters is a name: it
 * matches any path segment (so `node_modules` also covers everything below
 * it). A glob is matched against the relative path and against the basename;
 * a RegExp against the relative path. `!name` removes a default.
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
    if (typeof p === 'string' && p.startsWith('!')) negated.add(p.slice(1));
    else user.push(p);
  }
  const names = new Set<string>();
  const regexps: RegExp[] = [];
  const globs: RegExp[] = [];
  for (const p of [...DEFAULT_IGNORES.filter((d) => !negated.has(d)), ...user]) {
    if (p instanceof RegExp) regexps.push(p);
    else if (!/[*?/]/.test(p)) names.add(p);
    else globs.push(globToRegExp(p.replace(/^\.?\//, '').replace(/\/$/, '')));
  }
  if (names.size === 0 && regexps.length === 0 && globs.length === 0) return Object.assign(() => false, { onlyNames: names });
  const matcher = (relPath: string): boolean => {
    if (relPath === '') return false;
    if (names.size > 0) {
      for (const seg of relPath.split('/')) if (names.has(seg)) return true;
    }
    if (globs.length > 0) {
      const slash = relPath.lastIndexOf('/');
      const base = slash < 0 ? relPath : relPath.slice(slash + 1);
      for (const g of globs) {
        if (g.test(relPath) || g.test(base)) return true;
        // A glob that matches an ancestor directory covers everything below it.
        for (let i = relPath.indexOf('/'); i > 0; i = relPath.indexOf('/', i + 1)) if (g.test(relPath.slice(0, i))) return true;
      }
    }
    for (const r of regexps) if (r.test(relPath)) return true;
    return false;
  };
  return regexps.length === 0 && globs.length === 0 ? Object.assign(matcher, { onlyNames: names }) : matcher;
}
