// Accuracy of agentc's device math library (compiler/src/codegen/device_math.ll) compiled
// for the host against libm in double precision (lit-tests/codegen/device-math.mlir).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
float __nv_sinf(float), __nv_cosf(float), __nv_powf(float, float), __nv_erff(float), __nv_rsqrtf(float);
float __nv_expf(float), __nv_logf(float), __nv_tanhf(float);
double __nv_exp(double), __nv_fabs(double), __nv_copysign(double, double);
static int failures;
// max relative error (abs error / max(|want|, floor)) over the samples, against a bound
static void report(const char *name, double max_rel, double bound) {
  int ok = max_rel <= bound;
  printf("%-8s max rel err %.3g (bound %.3g) %s\n", name, max_rel, bound, ok ? "ok" : "FAIL");
  failures += !ok;
}
static double rel(double got, double want, double floor) {
  if (isnan(want)) return isnan(got) ? 0 : INFINITY;
  if (isinf(want)) return got == want ? 0 : INFINITY;
  double d = fabs(want) > floor ? fabs(want) : floor;
  return fabs(got - want) / d;
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)rand() / (float)RAND_MAX; }
int main(void) {
  srand(1);
  double e_sin = 0, e_cos = 0, e_pow = 0, e_erf = 0, e_rsqrt = 0, e_exp = 0, e_exp32 = 0, e_log = 0, e_tanh = 0;
  for (int i = 0; i < 200000; i++) {
    // sin/cos: |x| up to 2^16 (RoPE angles: position x inverse frequency), relative to
    // max(|f|, 2^-24) since f32 arguments near multiples of pi round the zero away
    float x = i < 100000 ? uniform(-8, 8) : uniform(-65536, 65536);
    e_sin = fmax(e_sin, rel(__nv_sinf(x), sin((double)x), 0x1p-24));
    e_cos = fmax(e_cos, rel(__nv_cosf(x), cos((double)x), 0x1p-24));
    // pow: RoPE's 10000^(-2i/d) and a general range
    float b = i % 2 ? 10000.0f : uniform(0.001f, 100), y = uniform(-4, 4);
    e_pow = fmax(e_pow, rel(__nv_powf(b, y), pow((double)b, (double)y), 0));
    float z = uniform(-6, 6) * (i % 3 ? 1 : 1e-3f);
    e_erf = fmax(e_erf, rel(__nv_erff(z), erf((double)z), 0));
    float p = uniform(1e-6f, 1e6f);
    e_rsqrt = fmax(e_rsqrt, rel(__nv_rsqrtf(p), 1 / sqrt((double)p), 0));
    double d = (double)uniform(-700, 700) + uniform(-1, 1);
    e_exp = fmax(e_exp, rel(__nv_exp(d), exp(d), 0));
    float s = uniform(-20, 0);
    e_exp32 = fmax(e_exp32, rel(__nv_expf(s), exp((double)s), 0));
    e_log = fmax(e_log, fabs(__nv_logf(p) - log((double)p)));
    float th = uniform(-10, 10);
    e_tanh = fmax(e_tanh, fabs(__nv_tanhf(th) - tanh((double)th)));
  }
  report("sinf", e_sin, 2e-7);
  report("cosf", e_cos, 2e-7);
  report("powf", e_pow, 2e-7);
  report("erff", e_erf, 1e-6);
  report("rsqrtf", e_rsqrt, 2e-7);
  report("exp", e_exp, 1e-15);
  report("expf", e_exp32, 2e-6);
  printf("logf     max abs err %.3g\n", e_log);
  printf("tanhf    max abs err %.3g\n", e_tanh);
  // special values
  int sp = __nv_powf(0, 2) == 0 && __nv_powf(2, 0) == 1 && isnan(__nv_powf(-2, 0.5f)) && __nv_powf(-2, 3) == -8 &&
           __nv_powf(-2, 2) == 4 && isinf(__nv_powf(0, -1)) && __nv_powf(1, NAN) == 1 && isnan(__nv_sinf(INFINITY)) &&
           isnan(__nv_cosf(NAN)) && __nv_erff(INFINITY) == 1 && __nv_erff(-INFINITY) == -1 && __nv_erff(0) == 0 &&
           isinf(__nv_exp(1000)) && __nv_exp(-1000) == 0 && __nv_exp(0) == 1 && __nv_fabs(-2) == 2 &&
           __nv_copysign(3, -1) == -3 && fabs(__nv_exp(-740) / exp(-740) - 1) < 1e-6;
  printf("special values %s\n", sp ? "ok" : "FAIL");
  failures += !sp;
  printf("%s\n", failures ? "FAILED" : "all ok");
  return failures != 0;
}
