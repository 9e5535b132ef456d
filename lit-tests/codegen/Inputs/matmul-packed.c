// Harness for matmul-packed.mlir: runs every workgroup of the two packed-B matmuls and
// compares with a double-precision reference: |got - want| <= 1e-5 + 1e-4 * |want|.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { float *allocated, *aligned; int64_t offset, sizes[2], strides[2]; } D2;
typedef void (*Kernel)(D2 *a, D2 *b, D2 *out, int64_t wg);
void _mlir_ciface_mm_tall(D2 *a, D2 *b, D2 *out, int64_t wg);
void _mlir_ciface_mm_short(D2 *a, D2 *b, D2 *out, int64_t wg);

static D2 d2(float *p, int64_t m, int64_t n) { D2 d = {p, p, 0, {m, n}, {n, 1}}; return d; }
static float rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f; }

static void run(const char *name, Kernel kernel, int M, int K, int N, int grid) {
  unsigned seed = 7;
  float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
  for (int i = 0; i < M * K; i++) A[i] = rnd(&seed);
  for (int i = 0; i < K * N; i++) B[i] = rnd(&seed);
  for (int i = 0; i < M * N; i++) C[i] = NAN;
  D2 dA = d2(A, M, K), dB = d2(B, K, N), dC = d2(C, M, N);
  for (int64_t wg = 0; wg < grid; wg++) kernel(&dA, &dB, &dC, wg);
  int bad = 0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double want = 0;
      for (int k = 0; k < K; k++) want += (double)A[i * K + k] * B[k * N + j];
      double got = C[i * N + j];
      if (!(fabs(got - want) <= 1e-5 + 1e-4 * fabs(want))) {
        if (bad < 10) printf("MISMATCH %s[%d,%d]: got %.8g want %.8g\n", name, i, j, got, want);
        bad++;
      }
    }
  printf("%s %s\n", name, bad ? "FAIL" : "ok");
}

int main(void) {
  run("mm_tall", _mlir_ciface_mm_tall, 512, 384, 320, 10);
  run("mm_short", _mlir_ciface_mm_short, 192, 256, 256, 12);
  return 0;
}
