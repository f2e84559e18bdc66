// build/forge-core.wasm in wabt's interpreter (spectest-interp), by record and replay:
// 1. `RecordingCore` runs a vector case on a fresh V8 instance of the module through the same
//    interface as NativeCore (alloc/write/read/call), recording every step and its result.
// 2. `replayWast()` turns the recording into a .wast script: the module's exact bytes, a tiny
//    driver module that imports its memory (passive data segments copy the inputs in; an FNV-1a
//    hash reads outputs back), and one assertion per step: every allocation, every call result
//    and every byte read must be identical in the interpreter.
// The recorded outputs themselves are compared with the vectors' expected values (independent
// tools), so the interpreter is checked against those too, transitively.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Function signatures of a module's exported functions: name -> { params: ['i32'|'i64'…], results }. */
export function exportSignatures(bytes) {
  let p = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      b;
    do {
      b = bytes[p++];
      r |= (b & 0x7f) << s;
      s += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  const name = () => {
    const n = leb();
    const s = Buffer.from(bytes.subarray(p, p + n)).toString('utf8');
    p += n;
    return s;
  };
  const valType = (b) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' })[b] ?? `0x${b.toString(16)}`;
  const types = [],
    funcTypes = [],
    exports = [];
  let importedFuncs = 0;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        p++; // 0x60
        const params = Array.from({ length: leb() }, () => valType(bytes[p++]));
        const results = Array.from({ length: leb() }, () => valType(bytes[p++]));
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) {
          leb();
          importedFuncs++;
        } else throw new Error('exportSignatures: only function imports are supported');
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcTypes.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const nm = name();
        const kind = bytes[p++];
        const idx = leb();
        if (kind === 0) exports.push([nm, idx]);
      }
    }
    p = end;
  }
  return new Map(exports.map(([nm, idx]) => [nm, types[funcTypes[idx - importedFuncs]]]));
}

const FNV_OFFSET = 0xcbf29ce484222325n,
  FNV_PRIME = 0x100000001b3n,
  MASK = (1n << 64n) - 1n;
/** 64-bit FNV-1a as a signed i64 (the way the driver returns it). */
function fnv1a64(bytes) {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  return BigInt.asIntN(64, h);
}

/** The NativeCore interface over a V8 instance, recording every step. */
export class RecordingCore {
  constructor(bytes, signatures) {
    this.x = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    this.sigs = signatures;
    this.steps = [];
  }
  mem() {
    return new Uint8Array(this.x.memory.buffer);
  }
  async alloc(size, align = 1) {
    const ptr = this.x.cabi_realloc(0, 0, align, size) >>> 0;
    this.steps.push({ op: 'alloc', size, align, ptr });
    return ptr;
  }
  async write(ptr, bytes) {
    if (!bytes.length) return;
    this.mem().set(bytes, ptr);
    this.steps.push({ op: 'write', ptr, bytes: Uint8Array.from(bytes) });
  }
  async read(ptr, len) {
    const out = this.mem().slice(ptr, ptr + len);
    this.steps.push({ op: 'read', ptr, len, hash: fnv1a64(out) });
    return out;
  }
  async u32(ptr) {
    return Buffer.from(await this.read(ptr, 4)).readUInt32LE(0);
  }
  async call(name, ...args) {
    const sig = this.sigs.get(name);
    if (!sig) throw new Error(`no export ${name}`);
    const typed = args.map((a, i) => (sig.params[i] === 'i64' ? BigInt.asIntN(64, BigInt(a)) : Number(a) | 0));
    const r = this.x[name](...typed);
    const result = sig.results.length ? (sig.results[0] === 'i64' ? BigInt.asUintN(64, r) : BigInt(r >>> 0)) : undefined;
    this.steps.push({ op: 'call', name, args: typed, sig, result });
    return result;
  }
  async lowerBytes(bytes) {
    const ptr = await this.alloc(bytes.length, 1);
    await this.write(ptr, bytes);
    return [ptr, bytes.length];
  }
  async liftList(ret, elemSize) {
    const desc = Buffer.from(await this.read(ret, 8));
    return this.read(desc.readUInt32LE(0), desc.readUInt32LE(4) * elemSize);
  }
  async close() {}
  /** Bytes written in total (the replay script carries them). */
  writtenBytes() {
    return this.steps.reduce((n, s) => n + (s.op === 'write' ? s.bytes.length : 0), 0);
  }
}

const wastBytes = (b) => {
  let s = '"';
  for (const x of b) s += `\\${x.toString(16).padStart(2, '0')}`;
  return `${s}"`;
};
const wastString = (s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
const constOf = (type, v) => `(${type}.const ${type === 'i64' ? BigInt.asIntN(64, BigInt(v)) : Number(BigInt.asIntN(32, BigInt(v)))})`;

/** A .wast script replaying `recordings` (each: { label, steps }) on a fresh instance each. */
export function replayWast(moduleBytes, recordings) {
  const out = [];
  recordings.forEach(({ steps }, r) => {
    const writes = steps.filter((s) => s.op === 'write');
    out.push(`(module $core${r} binary ${wastBytes(moduleBytes)})`);
    out.push(`(register "core${r}" $core${r})`);
    out.push(`(module $drv${r}`);
    out.push(`  (import "core${r}" "memory" (memory 0))`);
    writes.forEach((w, i) => out.push(`  (data $d${i} ${wastBytes(w.bytes)})`));
    writes.forEach((w, i) => out.push(`  (func (export "w${i}") (memory.init $d${i} (i32.const ${w.ptr}) (i32.const 0) (i32.const ${w.bytes.length})))`));
    out.push(`  (func (export "fnv") (param $p i32) (param $n i32) (result i64) (local $h i64)
    (local.set $h (i64.const ${BigInt.asIntN(64, FNV_OFFSET)}))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load8_u (local.get $p))) (i64.const ${BigInt.asIntN(64, FNV_PRIME)})))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $h)))`);
    let wi = 0;
    for (const s of steps) {
      if (s.op === 'alloc')
        out.push(
          `(assert_return (invoke $core${r} "cabi_realloc" (i32.const 0) (i32.const 0) (i32.const ${s.align}) (i32.const ${s.size})) (i32.const ${s.ptr | 0}))`,
        );
      else if (s.op === 'write') out.push(`(assert_return (invoke $drv${r} "w${wi++}"))`);
      else if (s.op === 'read') out.push(`(assert_return (invoke $drv${r} "fnv" (i32.const ${s.ptr}) (i32.const ${s.len})) (i64.const ${s.hash}))`);
      else {
        const args = s.args.map((a, i) => constOf(s.sig.params[i], a)).join(' ');
        const expect = s.sig.results.length ? ` ${constOf(s.sig.results[0], s.result)}` : '';
        out.push(`(assert_return (invoke $core${r} ${wastString(s.name)} ${args})${expect})`);
      }
    }
  });
  return `${out.join('\n')}\n`;
}

/** Runs a .wast script in wabt's interpreter; throws with the interpreter's report on failure. */
export function runWast(dir, name, text) {
  const wast = join(dir, `${name}.wast`);
  const json = join(dir, `${name}.json`);
  writeFileSync(wast, text);
  try {
    execFileSync('wast2json', [wast, '-o', json], { stdio: 'pipe' });
    return execFileSync('spectest-interp', [json], { stdio: 'pipe', maxBuffer: 64 << 20 })
      .toString()
      .trim();
  } catch (e) {
    const report = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter(Boolean).slice(-8).join('\n    ');
    throw new Error(`wabt interpreter: ${report || e.message}`);
  }
}
