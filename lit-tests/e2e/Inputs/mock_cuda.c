// A stand-in for libcuda.so.1 that runs an executable's GPU path on the CPU, for machines
// without a GPU (lit-tests/e2e/gpu-mock.agent). Linked with the program's kernels object
// (`agentc build --emit=obj`) into one shared library named libcuda.so.1:
//
//   clang-22 -shared -fPIC mock_cuda.c kernels.o -lm -ldl -o DIR/libcuda.so.1
//   LD_LIBRARY_PATH=DIR ./app ...
//
// Device memory is host memory (malloc). cuModuleLoadDataEx keeps the PTX text;
// cuModuleGetFunction finds `_mlir_ciface_<name>` in this library and the parameter count
// of `.entry <name>(` in the PTX. cuLaunchKernel rebuilds the memref descriptors from the
// expanded parameters (allocated, aligned, offset, sizes..., strides...: a memref ends where
// the next starts with a pointer this mock allocated, twice) and calls the CPU kernel once
// per block with the block id as the workgroup. So everything the runtime does around a
// launch runs for real: opening, the heap limit, the PTX, parameter marshalling, uploads,
// the weight cache, copies back, frees. Only the PTX itself is not executed.
//
// At exit it prints one line to stderr: `mock libcuda: ...` with what was called.
// AGENTC_MOCK_CUDA_FAIL=ptx makes loading the PTX fail (with a JIT log), =launch every
// launch.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int R;
enum { OK = 0, INVALID_VALUE = 1, NO_DEVICE = 100, INVALID_PTX = 218, NOT_FOUND = 500, LAUNCH_FAILED = 719 };

static long launches, blocks, allocs, frees, uploads, downloads;
static size_t heap;
static char *ptx;

// Live allocations, to tell a pointer parameter from a size or stride.
#define MAX_ALLOCS 4096
static uint64_t live[MAX_ALLOCS];
static int nlive;

static int is_live(uint64_t p) {
  for (int i = 0; i < nlive; i++)
    if (live[i] == p) return 1;
  return 0;
}

// As the real driver: CUDA_VISIBLE_DEVICES set and empty hides every device.
R cuInit(unsigned flags) {
  const char *visible = getenv("CUDA_VISIBLE_DEVICES");
  if (visible && !*visible) return NO_DEVICE;
  return flags == 0 ? OK : INVALID_VALUE;
}
R cuDeviceGetCount(int *n) { *n = 1; return OK; }
R cuDeviceGet(int *d, int ordinal) { *d = ordinal; return ordinal == 0 ? OK : INVALID_VALUE; }
R cuDeviceGetName(char *s, int n, int d) { snprintf(s, n, "agentc mock driver"); return OK; }
R cuDeviceGetAttribute(int *v, int attribute, int d) { *v = attribute == 75 ? 9 : 0; return OK; }
R cuDevicePrimaryCtxRetain(void **c, int d) { *c = (void *)0x1; return OK; }
R cuDevicePrimaryCtxRelease_v2(int d) { return OK; }
R cuCtxSetCurrent(void *c) { return c == (void *)0x1 ? OK : INVALID_VALUE; }
R cuCtxSetLimit(int limit, size_t value) { if (limit == 2) heap = value; return OK; }
R cuCtxSynchronize(void) { return OK; }

static int fails(const char *what) {
  const char *fail = getenv("AGENTC_MOCK_CUDA_FAIL");
  return fail && !strcmp(fail, what);
}

R cuModuleLoadDataEx(void **module, const void *image, unsigned n, int *options, void **values) {
  if (fails("ptx")) {
    // CU_JIT_ERROR_LOG_BUFFER (5) and its size (6), as the runtime passes them.
    if (n == 2 && options[0] == 5 && options[1] == 6 && (uintptr_t)values[1] > 64)
      snprintf((char *)values[0], 64, "ptxas fatal   : mock failure\nline two");
    return INVALID_PTX;
  }
  if (heap == 0 || !strstr((const char *)image, ".visible .entry")) return INVALID_PTX;
  ptx = strdup((const char *)image);
  *module = (void *)0x2;
  return OK;
}

R cuModuleUnload(void *module) { free(ptx); ptx = NULL; return OK; }

typedef struct {
  void *fn;
  int params;
} Function;

// The parameter count of `.entry NAME(` in the PTX, or -1.
static int entry_params(const char *name) {
  char head[512];
  snprintf(head, sizeof head, ".entry %s(", name);
  const char *start = ptx ? strstr(ptx, head) : NULL;
  if (!start) return -1;
  const char *end = strchr(start, ')');
  int count = 0;
  for (const char *p = start; p && p < end; p = strstr(p + 1, ".param "))
    if (p != start) count++;
  return count;
}

R cuModuleGetFunction(void **f, void *module, const char *name) {
  Dl_info info;
  if (!dladdr((void *)&cuInit, &info)) return NOT_FOUND;
  void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  char symbol[512];
  snprintf(symbol, sizeof symbol, "_mlir_ciface_%s", name);
  void *fn = self ? dlsym(self, symbol) : NULL;
  int params = entry_params(name);
  if (!fn || params < 0) return NOT_FOUND;
  Function *function = malloc(sizeof *function);
  function->fn = fn;
  function->params = params;
  *f = function;
  return OK;
}

R cuMemAlloc_v2(uint64_t *p, size_t n) {
  if (n == 0 || nlive == MAX_ALLOCS) return INVALID_VALUE;
  *p = (uintptr_t)malloc(n);
  live[nlive++] = *p;
  allocs++;
  return OK;
}

R cuMemFree_v2(uint64_t p) {
  for (int i = 0; i < nlive; i++)
    if (live[i] == p) {
      live[i] = live[--nlive];
      free((void *)(uintptr_t)p);
      frees++;
      return OK;
    }
  return INVALID_VALUE;
}

R cuMemcpyHtoD_v2(uint64_t d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); uploads++; return OK; }
R cuMemcpyDtoH_v2(void *d, uint64_t s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); downloads++; return OK; }

// A kernel called with up to 127 memref descriptors and the workgroup: on x86-64 (System V)
// a callee taking fewer pointer/i64 arguments reads exactly the first ones.
#define P4 void *, void *, void *, void *
#define P16 P4, P4, P4, P4
#define P64 P16, P16, P16, P16
typedef void (*Kernel128)(P64, P64);
#define MAX_MEMREFS 127

R cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                 unsigned shared, void *stream, void **params, void **extra) {
  Function *function = f;
  if (gy != 1 || gz != 1 || bx != 1 || by != 1 || bz != 1 || shared || extra || gx == 0) return INVALID_VALUE;
  if (fails("launch")) return LAUNCH_FAILED;
  int n = function->params;
  uint64_t *p = malloc(sizeof(uint64_t) * (n + 1));
  for (int i = 0; i < n; i++) p[i] = *(uint64_t *)params[i];
  void *args[128] = {0};
  int64_t *descriptors[MAX_MEMREFS];
  int memrefs = 0;
  for (int i = 0; i < n;) {
    if (memrefs == MAX_MEMREFS || i + 3 > n || p[i] != p[i + 1] || !is_live(p[i])) return LAUNCH_FAILED;
    int j = i + 3;
    while (j < n && !(j + 1 < n && p[j] == p[j + 1] && is_live(p[j]))) j++;
    if ((j - i - 3) % 2) return LAUNCH_FAILED;
    int64_t *d = malloc(sizeof(int64_t) * (j - i));
    for (int k = i; k < j; k++) d[k - i] = (int64_t)p[k];
    descriptors[memrefs] = d;
    args[memrefs++] = d;
    i = j;
  }
  Kernel128 kernel = (Kernel128)function->fn;
  for (unsigned b = 0; b < gx; b++) {
    args[memrefs] = (void *)(uintptr_t)b;
#define A4(k) args[k], args[k + 1], args[k + 2], args[k + 3]
#define A16(k) A4(k), A4(k + 4), A4(k + 8), A4(k + 12)
#define A64(k) A16(k), A16(k + 16), A16(k + 32), A16(k + 48)
    kernel(A64(0), A64(64));
    blocks++;
  }
  for (int m = 0; m < memrefs; m++) free(descriptors[m]);
  free(p);
  launches++;
  return OK;
}

R cuGetErrorName(R e, const char **s) {
  *s = e == INVALID_PTX     ? "CUDA_ERROR_INVALID_PTX"
       : e == LAUNCH_FAILED ? "CUDA_ERROR_LAUNCH_FAILED"
       : e == NO_DEVICE     ? "CUDA_ERROR_NO_DEVICE"
                            : "CUDA_ERROR_MOCK";
  return OK;
}
R cuGetErrorString(R e, const char **s) { *s = "an error of the mock driver"; return OK; }

// The strided copy the CPU kernels call for memref.copy (the runtime's, which this library
// cannot see): unranked memrefs {rank, descriptor*}.
typedef struct {
  int64_t rank;
  int64_t *d;
} Unranked;

void memrefCopy(int64_t element_size, Unranked *source, Unranked *target) {
  int64_t rank = source->rank, *s = source->d, *t = target->d, total = 1, index[64] = {0};
  for (int64_t i = 0; i < rank; i++) total *= s[3 + i];
  for (int64_t n = 0; n < total; n++) {
    int64_t so = s[2], to = t[2];
    for (int64_t i = 0; i < rank; i++) {
      so += index[i] * s[3 + rank + i];
      to += index[i] * t[3 + rank + i];
    }
    memcpy((char *)(uintptr_t)t[1] + to * element_size, (char *)(uintptr_t)s[1] + so * element_size, element_size);
    for (int64_t i = rank - 1; i >= 0; i--) {
      if (++index[i] < s[3 + i]) break;
      index[i] = 0;
    }
  }
}

__attribute__((destructor)) static void report(void) {
  if (launches || allocs)
    fprintf(stderr, "mock libcuda: %ld launches, %ld blocks, %ld uploads, %ld downloads, %ld allocs, %ld frees, heap %zu MiB\n",
            launches, blocks, uploads, downloads, allocs, frees, heap >> 20);
}
