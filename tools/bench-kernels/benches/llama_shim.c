// Linked into the tiny-Llama benchmark's shared library next to the model object
// (benches/llama.rs): the strided copy that bufferisation's memref.copy calls, and a
// caller for kernels with many arguments (as lit-tests/numerics/Inputs/harness.c: on
// x86-64 System V every argument is INTEGER class, so argument i lands in the same
// register or stack slot whatever the callee declares, and extra ones are ignored).
#include <stdint.h>
#include <string.h>

typedef struct { int64_t rank; void *descriptor; } Unranked;
typedef struct { char *allocated, *aligned; int64_t offset, rest[]; } Strided;
void memrefCopy(int64_t elem, Unranked *src, Unranked *dst) {
  int rank = (int)src->rank;
  Strided *s = src->descriptor, *d = dst->descriptor;
  int64_t index[16] = {0}, total = 1;
  for (int i = 0; i < rank; i++) total *= s->rest[i];
  for (int64_t n = 0; n < total; n++) {
    int64_t so = s->offset, doff = d->offset;
    for (int i = 0; i < rank; i++) so += index[i] * s->rest[rank + i], doff += index[i] * d->rest[rank + i];
    memcpy(d->aligned + doff * elem, s->aligned + so * elem, elem);
    for (int i = rank - 1; i >= 0 && ++index[i] == s->rest[i]; i--) index[i] = 0;
  }
}

#define P10 void *, void *, void *, void *, void *, void *, void *, void *, void *, void *
#define A10(i) a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5], a[i + 6], a[i + 7], a[i + 8], a[i + 9]
// Calls `kernel` with a[0..160).
void bench_call(void *kernel, void **a) {
  void (*f)(P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10) =
      (void (*)(P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10))kernel;
  f(A10(0), A10(10), A10(20), A10(30), A10(40), A10(50), A10(60), A10(70), A10(80), A10(90), A10(100), A10(110),
    A10(120), A10(130), A10(140), A10(150));
}
