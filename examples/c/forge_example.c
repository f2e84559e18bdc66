/*
 * Embedding the Forge core (forge-core.wasm) in C through wabt's wasm2c.
 *
 *   forge_example <input-file> <frame-out>
 *
 * prints "<sha256>  <input-file>" (as sha256sum), writes the input as an LZ4 frame to
 * <frame-out> (readable by `lz4 -d`), decodes it back and checks it, then shows how an error
 * comes back by decoding bytes that are not a frame. Exit status 0 when every step worked.
 *
 * The Canonical-ABI rules it follows (docs/embedding.md):
 *  - Arguments: allocate with cabi_realloc(0, 0, align, size), copy the bytes into linear memory
 *    and pass (ptr, len). The callee owns them afterwards (it frees them).
 *  - Results wider than one value come back as a pointer to a return area: list<u8> is
 *    {ptr u32 @0, len u32 @4}; result<list<u8>, codec-error> is {disc u8 @0; ok: ptr @4, len @8;
 *    err: error code u8 @4}.
 *  - Copy what you need out of the return area, then call the export's cabi_post_… function,
 *    which frees the result, before calling anything else.
 *  - Memory may grow during any call: re-read the memory base after every call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm-rt.h"
#include "wasm-rt-impl.h"
#include "forge_core.h"

/* wasm2c mangles export names: ':' -> Z3A, '/' -> Z2F, '@' -> Z40, '.' -> Z2E, '#' -> Z23, '-' -> Z2D. */
#define CAT(a, b) a##b
#define CORE(name) CAT(Z_forge_coreZ_forgeZ3AcoreZ2F, name)
#define POST(name) CAT(Z_forge_coreZ_cabi_post_forgeZ3AcoreZ2F, name)
#define SHA256 checksumZ400Z2E1Z2E0Z23sha256
#define FRAME_COMPRESS codecZ400Z2E1Z2E0Z23lz4Z2DframeZ2Dcompress
#define FRAME_DECOMPRESS codecZ400Z2E1Z2E0Z23lz4Z2DframeZ2Ddecompress

static const char *CODEC_ERRORS[] = { "bad-magic", "unsupported", "truncated", "corrupt", "checksum-mismatch", "too-large" };

static Z_forge_core_instance_t core;

static u8 *mem(void) { return Z_forge_coreZ_memory(&core)->data; }

static u32 ld32(u32 at) { u32 v; memcpy(&v, mem() + at, 4); return v; }

/* Lowers bytes: allocate in the module and copy in. Returns the pointer (the callee frees it). */
static u32 lower(const u8 *data, u32 len) {
  u32 p = Z_forge_coreZ_cabi_realloc(&core, 0, 0, 1, len);
  if (len) memcpy(mem() + p, data, len);
  return p;
}

static u8 *read_file(const char *path, u32 *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0, got;
  u8 *buf = malloc(cap);
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  *len = (u32)n;
  return buf;
}

/* lz4-frame-decompress: 0 and a malloc'd copy on ok, or the codec-error index + 1. */
static int decompress(const u8 *frame, u32 len, u8 **out, u32 *out_len) {
  u32 ret = CORE(FRAME_DECOMPRESS)(&core, lower(frame, len), len, (u64)1 << 30 /* max-size */);
  int status;
  if (mem()[ret] == 0) {
    *out_len = ld32(ret + 8);
    *out = malloc(*out_len ? *out_len : 1);
    memcpy(*out, mem() + ld32(ret + 4), *out_len);
    status = 0;
  } else {
    status = mem()[ret + 4] + 1;
  }
  POST(FRAME_DECOMPRESS)(&core, ret);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <input-file> <frame-out>\n", argv[0]);
    return 2;
  }
  u32 len;
  u8 *data = read_file(argv[1], &len);
  if (!data) { perror(argv[1]); return 1; }

  wasm_rt_init();
  Z_forge_core_init_module();
  Z_forge_core_instantiate(&core);
  /* A trap (a bug in the core, or memory exhausted) lands here instead of killing the process. */
  wasm_rt_trap_t trap = wasm_rt_impl_try();
  if (trap) { fprintf(stderr, "the core trapped: %s\n", wasm_rt_strerror(trap)); return 3; }

  /* checksum.sha256: func(data: list<u8>) -> list<u8> */
  u32 ret = CORE(SHA256)(&core, lower(data, len), len);
  const u8 *digest = mem() + ld32(ret);
  for (int i = 0; i < 32; i++) printf("%02x", digest[i]);
  printf("  %s\n", argv[1]);
  POST(SHA256)(&core, ret);

  /* codec.lz4-frame-compress: func(data: list<u8>, options: frame-options) -> list<u8>;
     frame-options flattens to (block-size, content-size, content-checksum, block-checksum). */
  ret = CORE(FRAME_COMPRESS)(&core, lower(data, len), len, 4 << 20, 1, 1, 0);
  u32 frame_len = ld32(ret + 4);
  u8 *frame = malloc(frame_len);
  memcpy(frame, mem() + ld32(ret), frame_len);
  POST(FRAME_COMPRESS)(&core, ret);
  FILE *f = fopen(argv[2], "wb");
  if (!f || fwrite(frame, 1, frame_len, f) != frame_len || fclose(f) != 0) { perror(argv[2]); return 1; }

  /* codec.lz4-frame-decompress: func(data: list<u8>, max-size: u64) -> result<list<u8>, codec-error> */
  u8 *back;
  u32 back_len;
  int err = decompress(frame, frame_len, &back, &back_len);
  if (err || back_len != len || memcmp(back, data, len) != 0) {
    fprintf(stderr, "round trip failed (%s)\n", err ? CODEC_ERRORS[err - 1] : "different bytes");
    return 1;
  }
  printf("lz4: %u -> %u bytes, round trip ok\n", len, frame_len);

  /* Errors are values, not traps: bytes that are not a frame give err(bad-magic). */
  static const u8 junk[] = "not an lz4 frame";
  err = decompress(junk, sizeof junk - 1, &back, &back_len);
  printf("decoding junk: %s\n", err ? CODEC_ERRORS[err - 1] : "ok?!");

  Z_forge_core_free(&core);
  wasm_rt_free();
  free(data);
  free(frame);
  return err == 1 ? 0 : 1;
}
