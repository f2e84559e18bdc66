// Independent plain-JS reference model of the event coalescer (NOT the core under test): the
// expected outputs of vectors/coalescer.json and the model-based property test come from
// here. It implements the rules documented in README.md ("Coalescer (interface `events`)") directly
// on a Map of per-path records.
//
// A record: { path, first, seq, existedBefore: true|false|'unknown', existsNow, from?, overflow? }
// Reported as: overflow -> overflow; from -> renamed(oldPath=from); existedBefore false ->
// created if existsNow else nothing; otherwise modified if existsNow else removed.

export class CoalescerModel {
  constructor(windowMs) {
    this.windowMs = windowMs;
    this.byPath = new Map();
    this.order = []; // records in first-seen order (overflow records included)
  }

  #open(path, t, existedBefore) {
    let r = this.byPath.get(path);
    if (!r) {
      r = { path, first: t, existedBefore, existsNow: false, from: undefined, overflow: false, dead: false };
      this.byPath.set(path, r);
      this.order.push(r);
    }
    return r;
  }

  #drop(r) {
    r.dead = true;
    this.byPath.delete(r.path);
  }

  /** The pair ending at `r` is broken: its source is gone (or, if re-created, changed). */
  #unpair(r, t) {
    const src = r.from;
    r.from = undefined;
    const s = this.byPath.get(src);
    if (s) s.existedBefore = true;
    else this.#open(src, t, true).existsNow = false;
  }

  push(changes, t) {
    for (const c of changes) this.#apply(c, t);
  }

  #apply(c, t) {
    let { kind } = c;
    if (kind === 'overflow') {
      this.order.push({ path: c.path, first: t, overflow: true, dead: false });
      return;
    }
    if (kind === 'renamed' && c.oldPath === undefined) kind = 'created';
    if (kind === 'renamed' && c.oldPath === c.path) kind = 'modified';
    switch (kind) {
      case 'created': {
        this.#open(c.path, t, false).existsNow = true;
        return;
      }
      case 'modified': {
        this.#open(c.path, t, true).existsNow = true;
        return;
      }
      case 'removed': {
        const r = this.#open(c.path, t, true);
        if (r.from !== undefined) this.#unpair(r, t);
        r.existsNow = false;
        return;
      }
      case 'renamed': {
        const src = this.byPath.get(c.oldPath);
        if (src && src.existedBefore === false && src.from === undefined) {
          // Created in this window, then moved: no pair; the target just has new content.
          this.#drop(src);
          const r = this.#open(c.path, t, 'unknown');
          if (r.from !== undefined) this.#unpair(r, t);
          r.existsNow = true;
          return;
        }
        let origin = c.oldPath;
        if (src) {
          if (src.from !== undefined) {
            origin = src.from; // a chain: a->b then b->c is a->c
            src.from = undefined;
            if (src.existedBefore === true)
              src.existsNow = false; // b was there before: now gone
            else this.#drop(src);
          } else {
            this.#drop(src); // the pair reports its removal
          }
        }
        const r = this.#open(c.path, t, 'unknown');
        if (r.from !== undefined && r.from !== origin) this.#unpair(r, t);
        if (origin === c.path) {
          r.from = undefined; // moved back where it started
          if (r.existedBefore === 'unknown') r.existedBefore = true;
        } else {
          r.from = origin;
        }
        r.existsNow = true;
        return;
      }
      default:
        return;
    }
  }

  static #report(r) {
    if (r.overflow) return { path: r.path, kind: 'overflow' };
    if (r.from !== undefined) return { path: r.path, kind: 'renamed', oldPath: r.from };
    if (r.existedBefore === false) return r.existsNow ? { path: r.path, kind: 'created' } : undefined;
    return { path: r.path, kind: r.existsNow ? 'modified' : 'removed' };
  }

  #take(closed) {
    const out = [];
    const keep = [];
    for (const r of this.order) {
      if (r.dead) continue;
      if (!closed(r)) {
        keep.push(r);
        continue;
      }
      if (!r.overflow) this.byPath.delete(r.path);
      const rep = CoalescerModel.#report(r);
      if (rep) out.push(rep);
    }
    this.order = keep;
    return out;
  }

  drain(now) {
    return this.#take((r) => r.first + this.windowMs <= now);
  }

  flush() {
    return this.#take(() => true);
  }
}
