import { eprint } from "./wasi_io";
export function checkVectors(path: string): i32 {
  eprint("forge-core-cli vectors: not supported yet\n");
  return 2;
}
