/**
 * Native heap blocks for overlapped I/O.
 *
 * The kernel writes OVERLAPPED structs, data buffers and change records after
 * the call that handed them over has returned, so they must live at a fixed
 * address until the completion packet arrives. V8 may move small on-heap typed
 * arrays; process-heap blocks never move. Each block is viewed (not copied)
 * through `koffi.view`.
 */
import koffi from 'koffi';
import { ForgeError } from '../../node/base/errors.js';
import type { Kernel32, Pointer } from './kernel32.js';

/** A fixed-address block of native memory and a byte view of it. */
export interface NativeBlock {
  readonly ptr: Pointer;
  readonly size: number;
  readonly bytes: Uint8Array;
  /** Returns the memory to the process heap; the view must not be used afterwards. */
  free(): void;
}

/** Allocates `size` bytes (zeroed) on the process heap. */
export function allocNative(k: Kernel32, size: number): NativeBlock {
  const HEAP_ZERO_MEMORY = 0x8;
  const heap = k.GetProcessHeap();
  // A zero-byte request still gets a distinct block, so every op owns a pointer.
  const ptr = k.HeapAlloc(heap, HEAP_ZERO_MEMORY, Math.max(1, size));
  if (ptr === 0n) {
    throw new ForgeError('filesystem', `HeapAlloc of ${size} bytes failed`, {
      context: { operation: 'alloc', backend: 'iocp', code: 'ENOMEM' },
      suggestions: ['Free memory, or use smaller batches / files.'],
    });
  }
  const bytes = size === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(ptr, size));
  let freed = false;
  return {
    ptr,
    size,
    bytes,
    free() {
      if (freed) return;
      freed = true;
      k.HeapFree(heap, 0, ptr);
    },
  };
}
