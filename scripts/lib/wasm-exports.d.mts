export interface WasmExport {
  name: string;
  kind: string;
  index: number;
}
export function wasmExports(bytes: Uint8Array): WasmExport[];
export function sharedFunctionExports(bytes: Uint8Array): [number, string[]][];
