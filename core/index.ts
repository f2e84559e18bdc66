// Module root of the Forge core (world `core` of wit/forge.wit). Everything exported here is a
// WebAssembly export, so each *_abi.ts file exports ONLY Canonical-ABI functions
// (`iface__fn`, `post__iface__fn`; renamed by scripts/cabi-transform.mjs) and keeps its helpers
// unexported or in another file. scripts/check-contract.mjs fails on any other export.
export { cabi_realloc, forge_scratch } from "./abi";
export * from "./checksum_abi";
export * from "./codec_abi";
export * from "./chunker_abi";
export * from "./events_abi";
