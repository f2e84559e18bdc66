// A strict consumer of the packed forge-io: compiled by test/package/package.test.ts with the
// node16, nodenext and bundler resolutions, without skipLibCheck. Every name below must resolve to
// its real type (an `any` would let the @ts-expect-error lines compile and fail the check).
import { BlobStore, ForgeError, type BlobStoreOptions, type VerifyReport } from 'forge-io/store';
import { lz4Compress, lz4Decompress, sha256, type Change, type ChangeKind, type CodecError, type Lz4FrameOptions } from 'forge-io/core';
import { createPlatformIO, type PlatformIO, type WriteOp, type ReadResult } from 'forge-io/io';
import { watch, type WatchHandle } from 'forge-io/watch';
import { loadConfig, type ForgeConfig } from 'forge-io';

const kind: ChangeKind = 'modified';
const change: Change = { path: 'a.txt', kind };
// @ts-expect-error: 'edited' is not a change kind
const wrongKind: Change = { path: 'a.txt', kind: 'edited' };
const op: WriteOp = { path: 'out.bin', data: new Uint8Array(4), sync: true };
// @ts-expect-error: a write needs its data
const opWithoutData: WriteOp = { path: 'out.bin' };
const frameOptions: Lz4FrameOptions = { blockSize: 65536, blockChecksum: true };
// @ts-expect-error: 1000 is not an LZ4 block size
const badFrame: Lz4FrameOptions = { blockSize: 1000 };
const codecError: CodecError | undefined = undefined;
const storeOptions: BlobStoreOptions = {};

export async function main(): Promise<string> {
  const frame: Uint8Array = lz4Compress(new TextEncoder().encode('hello'), frameOptions);
  const digest: Uint8Array = sha256(lz4Decompress(frame));
  // @ts-expect-error: sha256 returns the digest bytes, not a hex string
  const asHex: string = sha256(frame);
  const store: BlobStore = await BlobStore.open('.forge', storeOptions);
  const report: VerifyReport = await store.verify();
  await store.close();
  const io: PlatformIO = await createPlatformIO();
  const reads: ReadResult[] = await io.batchRead([op.path]);
  await io.close();
  const handle: WatchHandle = watch('.');
  await handle.close();
  const config: ForgeConfig = loadConfig().config;
  const e = new ForgeError('validation', 'example');
  return [change.path, digest.length, report.ok, reads.length, config, e.category, wrongKind, opWithoutData, badFrame, asHex, codecError].join();
}
