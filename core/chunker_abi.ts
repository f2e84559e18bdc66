// Canonical-ABI exports of interface forge:core/chunker@0.1.0 (see abi.ts for conventions).
//
// cut-points: func(data: list<u8>, params: cdc-params) -> list<u32>
//   flat: (ptr: i32, len: i32, min: i32, avg: i32, max: i32) -> i32 (return area {ptr, count})
import { allocResult, freeArg, postList, retList } from "./abi";
import { cdcConfigure, cdcCutPoints, cdcMaxCuts } from "./fastcdc";

export function chunker__cut_points(ptr: usize, len: usize, minSize: u32, avgSize: u32, maxSize: u32): usize {
  cdcConfigure(minSize, avgSize, maxSize);
  if (len == 0) return retList(4, 0); // no data, no chunks (a dangling pointer aligned for u32)
  const out = allocResult(cdcMaxCuts(len) << 2);
  const count = cdcCutPoints(ptr, len, out);
  freeArg(ptr, len);
  return retList(out, count);
}
export function post__chunker__cut_points(ret: usize): void {
  postList(ret);
}
