/**
 * Direct loader of the WebAssembly core (build/forge-core-simd.wasm where the engine validates
 * WebAssembly SIMD, else build/forge-core.wasm; see `selectCoreModule`): instantiates the module without
 * the component layer and calls its Canonical-ABI exports by hand (about 0.1 µs per small call,
 * against about 3 µs through the jco bindings).
 *
 * ## How the typed wrappers use it (core-checksum.ts, core-codec.ts, core-chunker.ts, core-events.ts)
 *
 * - Each interface `X` of world `core` has a module `host/node/core-X.ts` that exports
 *   `bindings(core: CoreInstance): XExports`, where `XExports` is
 *   `typeof import('../../../gen/types/core/interfaces/forge-core-X.js')`: an object with one function
 *   per WIT function, named as `jco types` names it, implemented on the direct loader. The public
 *   API of the module (e.g. `sha256()`, `lz4Compress()`) is built on that object.
 * - The contract check (scripts/check-contract.mjs) imports every `core-X.ts`, calls `bindings()`
 *   and fails unless its keys are exactly the WIT functions of `X`, and each `core.export()` name a
 *   binding asked for exists in the module. test/contract/ compares each binding with the jco
 *   bindings on random inputs (add a case to test/contract/agree.test.ts for each new function).
 *   So: always get exports through `core.export(iface, fn)` with the WIT names, never by hand.
 *
 * ## Calling convention (see core/abi.ts for the module side)
 *
 * ```ts
 * const sha = core.export('checksum', 'sha256');            // (ptr, len) => retPtr
 * const post = core.post('checksum', 'sha256');             // frees what the result points to
 * const args = core.args(data.length);                      // scratch, valid until the next call
 * const ptr = args.bytes(data);                             // copied in; the core will not free it
 * const ret = sha(ptr, data.length) as number;
 * const out = core.copyList(ret, 1);                        // copy out BEFORE post()
 * post(ret);
 * ```
 * - `args(n)` reserves n bytes (plus alignment slack per item) of the persistent scratch region;
 *   ask for the total of all arguments of a call up front (strings: `CoreArgs.stringBound`).
 *   For a call with a single list<u8> argument, `core.scratchBytes(data)` is the fast path.
 * - The core never frees scratch arguments (core/abi.ts `freeArg` skips the scratch region);
 *   `allocBytes()` makes a callee-owned copy instead, the way jco does.
 * - Memory may grow during any export call: never hold a view across a call; use `core.u8()` /
 *   `core.dv()` again (they are refreshed when the buffer changes).
 * - A trap (e.g. a placeholder not implemented yet, or a bug) becomes a ForgeError, and the
 *   instance is marked `poisoned`; `defaultCore()` then hands out a fresh instance.
 * - Worker threads: call `loadCore()` in each thread (one instance per thread); `coreModule()` can
 *   be posted to a worker to skip compiling again.
 */
import { ForgeError } from '../base/errors.js';
import { type CoreInfo, selectCoreModule } from './module-select.js';

export { type CoreInfo, type CoreModuleKind, coreWasmPath, selectCoreModule } from './module-select.js';

/** A core export as seen from JS: wasm i32 come back as numbers, i64 as bigints. */
export type CoreFunction = (...args: (number | bigint)[]) => number | bigint | undefined;

/** The WIT package prefix of every core export, e.g. `forge:core/checksum@0.1.0#sha256`. */
export const WIT_PACKAGE = 'forge:core';
/** The WIT package version the module was built against. */
export const WIT_VERSION = '0.1.0';

/** The core-export name of WIT function `fn` of interface `iface`. */
export function exportName(iface: string, fn: string): string {
  return `${WIT_PACKAGE}/${iface}@${WIT_VERSION}#${fn}`;
}

/** The post-return export name of WIT function `fn` of interface `iface`. */
export function postExportName(iface: string, fn: string): string {
  return `cabi_post_${exportName(iface, fn)}`;
}

let compiled: WebAssembly.Module | undefined;
let chosen: CoreInfo | undefined;

/** Which core module this thread loaded (or will load), and why. */
export function coreInfo(): CoreInfo {
  if (!chosen) coreModule();
  return chosen!;
}

/** The compiled core module (compiled once per thread, synchronously; it is small). */
export function coreModule(): WebAssembly.Module {
  if (!compiled) {
    const { bytes, ...info } = selectCoreModule();
    try {
      compiled = new WebAssembly.Module(bytes);
    } catch (cause) {
      throw new ForgeError('dependency', `cannot compile the core module ${info.path}`, {
        cause,
        context: { operation: 'loadCore', file: info.path },
        suggestions: ['Rebuild the core with `npm run build:core`.'],
      });
    }
    chosen = info;
  }
  return compiled;
}

/** Arguments being placed in the scratch region for one call. */
export class CoreArgs {
  private offset = 0;
  constructor(
    private readonly core: CoreInstance,
    readonly base: number,
    readonly capacity: number,
  ) {}

  /** Worst-case UTF-8 size of `s` (what to pass to `core.args` for a string). */
  static stringBound(s: string): number {
    return s.length * 3 + 8;
  }

  private reserve(size: number, align: number): number {
    const at = (this.offset + align - 1) & ~(align - 1);
    if (at + size > this.capacity) {
      throw new ForgeError('unknown', `core scratch overflow: ${at + size} > ${this.capacity} bytes reserved`, {
        context: { operation: 'core.args' },
        suggestions: ['Reserve the total size of all arguments in core.args(n) before placing them.'],
      });
    }
    this.offset = at + size;
    return this.base + at;
  }

  /** Copies `data` in and returns its pointer (the length is `data.length`). */
  bytes(data: Uint8Array): number {
    const ptr = this.reserve(data.length, 8);
    if (data.length) this.core.u8().set(data, ptr);
    return ptr;
  }

  /** Reserves `size` bytes aligned to `align` (e.g. a list of records to fill) and returns the pointer. */
  raw(size: number, align = 8): number {
    return this.reserve(size, align);
  }

  /** Encodes `s` as UTF-8 and returns `[ptr, byteLength]`. */
  string(s: string): [number, number] {
    const max = s.length * 3;
    const ptr = this.reserve(max, 1);
    const { written } = encoder.encodeInto(s, this.core.u8().subarray(ptr, ptr + max));
    this.offset -= max - written; // give back what the string did not use
    return [ptr, written];
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One instance of the core module, with its own linear memory. Not shareable across threads. */
export class CoreInstance {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  /** Set once an export trapped: the instance's heap may be inconsistent; do not reuse it. */
  poisoned = false;
  private readonly raw: Record<string, unknown>;
  private buffer: ArrayBuffer;
  private view8: Uint8Array;
  private viewDV: DataView;
  private scratchPtr = 0;
  private scratchCap = 0;
  private readonly reallocFn: CoreFunction;
  private readonly scratchFn: CoreFunction;
  private readonly memo = new Map<unknown, unknown>();

  constructor(module: WebAssembly.Module = coreModule()) {
    this.instance = new WebAssembly.Instance(module, {});
    this.raw = this.instance.exports as Record<string, unknown>;
    this.memory = this.raw.memory as WebAssembly.Memory;
    this.buffer = this.memory.buffer;
    this.view8 = new Uint8Array(this.buffer);
    this.viewDV = new DataView(this.buffer);
    this.reallocFn = this.lookup('cabi_realloc');
    this.scratchFn = this.lookup('forge_scratch');
  }

  /** The names of every export of the module. */
  exportNames(): string[] {
    return Object.keys(this.raw);
  }

  private lookup(name: string): CoreFunction {
    const f = this.raw[name];
    if (typeof f !== 'function') {
      throw new ForgeError('dependency', `the core module has no export "${name}"`, {
        context: { operation: 'loadCore', export: name },
        suggestions: ['Rebuild the core (`npm run build:core`): build/forge-core.wasm does not match this loader.'],
      });
    }
    const fn = f as CoreFunction;
    // Traps poison the instance and surface as ForgeError (category unknown: a core bug or an
    // unimplemented placeholder). Fixed-arity wrappers: a rest/spread call costs more than the
    // wasm call itself on small inputs.
    const trapped = (cause: unknown): never => {
      if (!(cause instanceof WebAssembly.RuntimeError)) throw cause;
      this.poisoned = true;
      throw new ForgeError('unknown', `the WebAssembly core trapped in ${name}: ${cause.message}`, {
        cause,
        context: { operation: name },
        suggestions: ['This is a bug in the core (or a function not implemented yet); please report it.'],
      });
    };
    type A = number | bigint;
    switch ((f as { length: number }).length) {
      case 0:
        return () => {
          try {
            return fn();
          } catch (e) {
            return trapped(e);
          }
        };
      case 1:
        return (a?: A) => {
          try {
            return fn(a!);
          } catch (e) {
            return trapped(e);
          }
        };
      case 2:
        return (a?: A, b?: A) => {
          try {
            return fn(a!, b!);
          } catch (e) {
            return trapped(e);
          }
        };
      case 3:
        return (a?: A, b?: A, c?: A) => {
          try {
            return fn(a!, b!, c!);
          } catch (e) {
            return trapped(e);
          }
        };
      default:
        return (...args) => {
          try {
            return fn(...args);
          } catch (e) {
            return trapped(e);
          }
        };
    }
  }

  /** The export implementing WIT function `fn` (kebab-case) of interface `iface`. */
  export(iface: string, fn: string): CoreFunction {
    return this.lookup(exportName(iface, fn));
  }

  /** The post-return export of WIT function `fn`; a no-op when the module has none. */
  post(iface: string, fn: string): (ret: number) => void {
    const name = postExportName(iface, fn);
    if (typeof this.raw[name] !== 'function') return () => {};
    const f = this.lookup(name);
    return (ret) => void f(ret);
  }

  /** Per-instance memo: `make(this)` runs once per key (wrappers cache their bindings here). */
  cached<T>(key: unknown, make: (core: CoreInstance) => T): T {
    let v = this.memo.get(key) as T | undefined;
    if (v === undefined) {
      v = make(this);
      this.memo.set(key, v);
    }
    return v;
  }

  /** The whole linear memory as bytes (refreshed after growth). */
  u8(): Uint8Array {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.view8;
  }

  /** The whole linear memory as a DataView (refreshed after growth). */
  dv(): DataView {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.viewDV;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.view8 = new Uint8Array(this.buffer);
    this.viewDV = new DataView(this.buffer);
  }

  /** `cabi_realloc`: a callee-owned allocation (the core frees lowered arguments). */
  realloc(oldPtr: number, oldSize: number, align: number, newSize: number): number {
    return this.reallocFn(oldPtr, oldSize, align, newSize) as number;
  }

  /** Copies `data` into a fresh callee-owned allocation: the Canonical-ABI way (what jco does). */
  allocBytes(data: Uint8Array): number {
    const ptr = this.realloc(0, 0, 1, data.length);
    if (data.length) this.u8().set(data, ptr);
    return ptr;
  }

  /** Scratch space for the arguments of ONE call (at least `size` bytes + alignment slack). */
  args(size: number): CoreArgs {
    const need = size + 64;
    if (need > this.scratchCap) {
      this.scratchPtr = this.scratchFn(need) as number;
      this.scratchCap = need;
    }
    return new CoreArgs(this, this.scratchPtr, this.scratchCap);
  }

  /** Fast path for a call with ONE list<u8> argument: copies it to the scratch start; returns its pointer. */
  scratchBytes(data: Uint8Array): number {
    if (data.length + 64 > this.scratchCap) this.args(data.length);
    if (data.length) this.u8().set(data, this.scratchPtr);
    return this.scratchPtr;
  }

  /** Little-endian u32 at `ptr`. */
  u32(ptr: number): number {
    return this.dv().getUint32(ptr, true);
  }

  /** A copy of `len` bytes at `ptr`. */
  copyBytes(ptr: number, len: number): Uint8Array {
    return this.u8().slice(ptr, ptr + len);
  }

  /** Copy of a returned `list<T>` (return area: ptr at +0, count at +4) with `elemSize`-byte elements. */
  copyList(ret: number, elemSize: number): Uint8Array {
    const dv = this.dv();
    const ptr = dv.getUint32(ret, true);
    const count = dv.getUint32(ret + 4, true);
    return this.view8.slice(ptr, ptr + count * elemSize);
  }

  /** A returned `list<u32>` as numbers. */
  copyU32List(ret: number): Uint32Array {
    const dv = this.dv();
    const ptr = dv.getUint32(ret, true);
    const count = dv.getUint32(ret + 4, true);
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = dv.getUint32(ptr + i * 4, true);
    return out;
  }

  /** Decodes a UTF-8 string at `ptr`. */
  readString(ptr: number, len: number): string {
    return decoder.decode(this.u8().subarray(ptr, ptr + len));
  }

  /**
   * A returned `result<list<T>, enum>`: `{ ok: bytes }` or `{ err: case index }`
   * (discriminant u8 at +0; ok list at +4/+8; err enum u8 at +4).
   */
  readResultList(ret: number, elemSize: number): { ok: Uint8Array } | { err: number } {
    const dv = this.dv();
    if (dv.getUint8(ret) === 0) {
      const ptr = dv.getUint32(ret + 4, true);
      const count = dv.getUint32(ret + 8, true);
      return { ok: this.view8.slice(ptr, ptr + count * elemSize) };
    }
    return { err: dv.getUint8(ret + 4) };
  }
}

/** A new, independent core instance (e.g. one per worker thread). */
export function loadCore(module?: WebAssembly.Module): CoreInstance {
  return new CoreInstance(module ?? coreModule());
}

/** Async variant of `loadCore` (compiles off the main thread when no module is given). */
export async function loadCoreAsync(module?: WebAssembly.Module): Promise<CoreInstance> {
  if (!module && !compiled) {
    const { bytes, ...info } = selectCoreModule();
    compiled = await WebAssembly.compile(bytes);
    chosen = info;
  }
  return new CoreInstance(module ?? coreModule());
}

let shared: CoreInstance | undefined;

/** The thread's shared instance, created on first use and replaced after a trap. */
export function defaultCore(): CoreInstance {
  if (!shared || shared.poisoned) shared = new CoreInstance(coreModule());
  return shared;
}
