// Reads the export section of a WebAssembly binary straight from its bytes (no engine, no
// optimizer), so checks see exactly what a host sees: each export's name, kind and index.

const KINDS = ['func', 'table', 'memory', 'global', 'tag'];

/**
 * Every export of `bytes` in section order: `{ name, kind, index }`.
 * @param {Uint8Array} bytes a WebAssembly binary module
 * @returns {{ name: string, kind: string, index: number }[]}
 */
export function wasmExports(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let at = 8; // magic + version
  const leb = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = u8[at++];
      if (b === undefined) throw new Error('wasm-exports: truncated LEB128');
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  const text = new TextDecoder('utf-8', { fatal: true });
  while (at < u8.length) {
    const id = u8[at++];
    const size = leb();
    const end = at + size;
    if (id === 7) {
      const out = [];
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = text.decode(u8.subarray(at, at + len));
        at += len;
        const kind = KINDS[u8[at++]] ?? 'unknown';
        out.push({ name, kind, index: leb() });
      }
      return out;
    }
    at = end;
  }
  return [];
}

/**
 * The functions exported under more than one name: `[index, names[]]` pairs (empty when every
 * function has one name, as hosts that keep few names per function need).
 * @param {Uint8Array} bytes
 * @returns {[number, string[]][]}
 */
export function sharedFunctionExports(bytes) {
  const byIndex = new Map();
  for (const e of wasmExports(bytes)) {
    if (e.kind !== 'func') continue;
    byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), e.name]);
  }
  return [...byIndex].filter(([, names]) => names.length > 1);
}
