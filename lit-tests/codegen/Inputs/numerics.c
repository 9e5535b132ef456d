// Harness for numerics.mlir: calls the generated kernels (C interface, one call per
// workgroup) and compares with double-precision references computed here:
// |got - want| <= 1e-5 + 1e-4 * |want|.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { float *allocated, *aligned; int64_t offset; } D0;
typedef struct { float *allocated, *aligned; int64_t offset, sizes[1], strides[1]; } D1;
typedef struct { float *allocated, *aligned; int64_t offset, sizes[2], strides[2]; } D2;

void _mlir_ciface_cosine(D1 *a, D1 *b, D0 *out, int64_t wg);
void _mlir_ciface_matmul(D2 *a, D2 *b, D2 *out, int64_t wg);
void _mlir_ciface_softmax(D2 *x, D2 *out, int64_t wg);

static D1 d1(float *p, int64_t n) { D1 d = {p, p, 0, {n}, {1}}; return d; }
static D2 d2(float *p, int64_t m, int64_t n) { D2 d = {p, p, 0, {m, n}, {n, 1}}; return d; }
static float rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f; }

static int bad = 0;
static void check(const char *what, int64_t i, double got, double want) {
  if (!(fabs(got - want) <= 1e-5 + 1e-4 * fabs(want))) {
    if (bad < 10) printf("MISMATCH %s[%lld]: got %.8g want %.8g\n", what, (long long)i, got, want);
    bad++;
  }
}

int main(void) {
  unsigned seed = 42;
  // cosine (grid 1)
  float a[64], b[64], c = 0;
  for (int i = 0; i < 64; i++) { a[i] = rnd(&seed); b[i] = rnd(&seed); }
  D1 da = d1(a, 64), db = d1(b, 64);
  D0 dc = {&c, &c, 0};
  _mlir_ciface_cosine(&da, &db, &dc, 0);
  double dot = 0, na = 0, nb = 0;
  for (int i = 0; i < 64; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
  check("cosine", 0, c, dot / (sqrt(na) * sqrt(nb)));
  printf("cosine %s\n", bad ? "FAIL" : "ok");

  // matmul 256x128 * 128x512, every workgroup of the grid
  enum { M = 256, K = 128, N = 512 };
  float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
  for (int i = 0; i < M * K; i++) A[i] = rnd(&seed);
  for (int i = 0; i < K * N; i++) B[i] = rnd(&seed);
  for (int i = 0; i < M * N; i++) C[i] = NAN;
  D2 dA = d2(A, M, K), dB = d2(B, K, N), dC = d2(C, M, N);
  int64_t grid = GRID_MATMUL;
  for (int64_t wg = 0; wg < grid; wg++) _mlir_ciface_matmul(&dA, &dB, &dC, wg);
  int before = bad;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double want = 0;
      for (int k = 0; k < K; k++) want += (double)A[i * K + k] * B[k * N + j];
      check("matmul", i * N + j, C[i * N + j], want);
    }
  printf("matmul %s\n", bad > before ? "FAIL" : "ok");

  // softmax over the last dim of 4x64
  float x[4 * 64], y[4 * 64];
  for (int i = 0; i < 4 * 64; i++) x[i] = 4 * rnd(&seed);
  D2 dx = d2(x, 4, 64), dy = d2(y, 4, 64);
  _mlir_ciface_softmax(&dx, &dy, 0);
  before = bad;
  for (int r = 0; r < 4; r++) {
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < 64; j++) mx = fmax(mx, x[r * 64 + j]);
    for (int j = 0; j < 64; j++) sum += exp((double)x[r * 64 + j] - mx);
    for (int j = 0; j < 64; j++) check("softmax", r * 64 + j, y[r * 64 + j], exp((double)x[r * 64 + j] - mx) / sum);
  }
  printf("softmax %s\n", bad > before ? "FAIL" : "ok");
  return bad != 0;
}
