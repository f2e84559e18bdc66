/*
 * Native harness for build/forge-core.wasm compiled to C by wabt's wasm2c (module name
 * "forge_core"). It knows nothing about Forge: it exposes the module's memory and exports over a
 * line protocol on stdin/stdout, and the Node checker (scripts/vectors-check.mjs) does the
 * Canonical-ABI lowering and lifting, exactly as any other host would.
 *
 *   A <size> <align>        cabi_realloc(0, 0, align, size)      -> "<ptr>"
 *   W <ptr> <hex>           copy bytes into linear memory         -> "ok"
 *   R <ptr> <len>           read bytes from linear memory         -> "<hex>" (empty line if len 0)
 *   C <export> <args...>    call an export (decimal i32/i64 args) -> "<result>" or "-" (void)
 *   Q                       quit
 * Any failure answers "err <reason>"; a trap answers "trap <reason>" (the instance stays usable
 * for inspection but the checker treats it as a failure).
 *
 * exports.inc is generated from forge_core.h by scripts/lib/native-harness.mjs: it defines
 * EXPORTS[] (name, signature, function) and call_export().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "wasm-rt.h"
#include "wasm-rt-impl.h"
#include "forge_core.h"

static Z_forge_core_instance_t inst;
static wasm_rt_memory_t *mem;

typedef struct {
  const char *name;
  int sig;       /* index into the generated signature switch */
  int nparams;
  const char *params; /* one char per param: 'i' (u32) or 'I' (u64) */
  char result;        /* 'i', 'I' or 'v' */
} export_t;

#include "exports.inc"

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int in_bounds(uint64_t ptr, uint64_t len) {
  return ptr <= mem->size && len <= mem->size - ptr;
}

static void cmd_alloc(char *args) {
  unsigned long size = 0, align = 1;
  if (sscanf(args, "%lu %lu", &size, &align) != 2) { puts("err usage: A <size> <align>"); return; }
  wasm_rt_trap_t trap = wasm_rt_impl_try();
  if (trap) { printf("trap %s\n", wasm_rt_strerror(trap)); return; }
  u32 p = Z_forge_coreZ_cabi_realloc(&inst, 0, 0, (u32)align, (u32)size);
  printf("%u\n", p);
}

static void cmd_write(char *args) {
  char *end;
  unsigned long ptr = strtoul(args, &end, 10);
  while (*end == ' ') end++;
  size_t n = strlen(end);
  while (n && (end[n - 1] == '\n' || end[n - 1] == '\r')) n--;
  if (n % 2) { puts("err odd hex length"); return; }
  if (!in_bounds(ptr, n / 2)) { puts("err write out of bounds"); return; }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(end[2 * i]), lo = hexval(end[2 * i + 1]);
    if (hi < 0 || lo < 0) { puts("err bad hex"); return; }
    mem->data[ptr + i] = (u8)(hi << 4 | lo);
  }
  puts("ok");
}

static void cmd_read(char *args) {
  unsigned long ptr = 0, len = 0;
  if (sscanf(args, "%lu %lu", &ptr, &len) != 2) { puts("err usage: R <ptr> <len>"); return; }
  if (!in_bounds(ptr, len)) { puts("err read out of bounds"); return; }
  static const char digits[] = "0123456789abcdef";
  char *line = malloc(len * 2 + 2);
  if (!line) { puts("err out of memory"); return; }
  for (unsigned long i = 0; i < len; i++) {
    line[2 * i] = digits[mem->data[ptr + i] >> 4];
    line[2 * i + 1] = digits[mem->data[ptr + i] & 15];
  }
  line[2 * len] = '\n';
  fwrite(line, 1, len * 2 + 1, stdout);
  free(line);
}

static void cmd_call(char *args) {
  char *name = strtok(args, " \n");
  if (!name) { puts("err usage: C <export> <args...>"); return; }
  const export_t *e = NULL;
  for (size_t i = 0; i < sizeof EXPORTS / sizeof EXPORTS[0]; i++) {
    if (strcmp(EXPORTS[i].name, name) == 0) { e = &EXPORTS[i]; break; }
  }
  if (!e) { printf("err no export %s\n", name); return; }
  u64 a[16] = {0};
  int n = 0;
  for (char *t; (t = strtok(NULL, " \n")) != NULL && n < 16;) a[n++] = strtoull(t, NULL, 10);
  if (n != e->nparams) { printf("err %s takes %d arguments, got %d\n", name, e->nparams, n); return; }
  wasm_rt_trap_t trap = wasm_rt_impl_try();
  if (trap) { printf("trap %s\n", wasm_rt_strerror(trap)); return; }
  u64 r = 0;
  call_export(e, a, &r);
  if (e->result == 'v') puts("-");
  else printf("%llu\n", (unsigned long long)r);
}

int main(void) {
  wasm_rt_init();
  Z_forge_core_init_module();
  Z_forge_core_instantiate(&inst);
  mem = Z_forge_coreZ_memory(&inst);
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    switch (line[0]) {
      case 'A': cmd_alloc(line + 1); break;
      case 'W': cmd_write(line + 1); break;
      case 'R': cmd_read(line + 1); break;
      case 'C': cmd_call(line + 1); break;
      case 'Q': goto done;
      default: puts("err unknown command"); break;
    }
    fflush(stdout);
  }
done:
  free(line);
  Z_forge_core_free(&inst);
  wasm_rt_free();
  return 0;
}
