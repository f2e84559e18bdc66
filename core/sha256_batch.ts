// SHA-256 of many inputs in one call. The inputs are a Canonical-ABI list<list<u8>>: `count`
// descriptors of (ptr: u32, len: u32) at `descs`.
//
// Scalar, one input after the other: 4-lane SIMD multi-buffer hashing would pay, but Debian 12's
// wabt 1.0.32 `wasm2c` rejects any SIMD instruction and the vectors must run this very module
// natively. The batch still saves the per-call crossing and allocation of one-at-a-time calls.
import { sha256Digest } from "./sha256";

/** Writes the 32-byte digest of input i to `out + 32 * i`. */
export function sha256BatchDigest(descs: usize, count: usize, out: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const d = descs + (i << 3);
    sha256Digest(<usize>load<u32>(d), <usize>load<u32>(d, 4), out + (i << 5));
  }
}
