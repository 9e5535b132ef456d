// Numerics harness for the compiled model functions (lit-tests/numerics): reads the
// F32, F16 or BF16 weights (as stored) from one model.safetensors (8-byte little-endian header length, JSON header, data),
// binds them to the kernel arguments by the `<fn>__weights` list that agentc puts in the
// object (names in argument order, one per line), runs the kernels and compares with the
// flattened transformers reference (flatten_reference.py).
//
// Build: clang harness.c model.o -DMODEL=llama -DLLAMA -DL=2 -DC=512 -DKV=2 -DHD=16 libagentc_runtime.a -lpthread -ldl -lm
//        (or -DMODEL=bert -DBERT [-DCOSINE])
// Run:   harness model.safetensors reference.txt
//
// Kernel ABI (dialects/tgraph/README.md): `_mlir_ciface_<fn>(inputs..., weights...,
// outputs..., int64_t workgroup)`, every tensor a pointer to a memref descriptor
// {allocated, aligned, offset, sizes[rank], strides[rank]}. The argument count depends on
// the model, so calls go through one pointer type with MAXARGS pointer-sized arguments:
// on x86-64 System V every argument here is INTEGER class, so argument i lands in the
// same register or stack slot whatever the callee declares, and extra ones are ignored.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define MAXARGS 160

typedef struct { void *allocated, *aligned; int64_t offset; int64_t rest[8]; } Desc;
typedef void (*Kernel)();

static Desc desc(void *p, int rank, const int64_t *sizes) {
  Desc d = {p, p, 0, {0}};
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; i--) { d.rest[i] = sizes[i]; d.rest[rank + i] = stride; stride *= sizes[i]; }
  return d;
}

// memrefCopy (what bufferisation's memref.copy calls) and the mlirAsyncRuntime* functions
// (the kernels' parallel loops) come from the runtime library the test links
// (%runtime-libs: runtime/src/kernels.rs, runtime/src/async_runtime.rs).

// ---- safetensors ----
static char *file_data, *header;
static uint64_t header_len;

static void load_safetensors(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { printf("cannot open %s\n", path); exit(2); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  file_data = malloc(n);
  if (fread(file_data, 1, n, f) != (size_t)n) { printf("cannot read %s\n", path); exit(2); }
  fclose(f);
  memcpy(&header_len, file_data, 8);
  header = malloc(header_len + 1);
  memcpy(header, file_data + 8, header_len);
  header[header_len] = 0;
}

typedef struct { Desc d; int rank; } Weight;

// The tensor `name` of the file, as a descriptor over the loaded bytes.
static Weight weight(const char *name) {
  char key[512];
  snprintf(key, sizeof key, "\"%s\":", name);
  char *at = strstr(header, key);
  if (!at) { printf("weight %s not in the file\n", name); exit(2); }
  char *end = strchr(at, '}');
  char *dtype = strstr(at, "\"dtype\""), *shape = strstr(at, "\"shape\""), *offs = strstr(at, "\"data_offsets\"");
  // F32, or F16/BF16 passed as stored (the kernels extend them to f32 as they read).
  char *f32 = dtype ? strstr(dtype, "\"F32\"") : 0, *f16 = dtype ? strstr(dtype, "F16\"") : 0;
  int known = (f32 && f32 < end) || (f16 && f16 < end);
  if (!dtype || !shape || !offs || dtype > end || shape > end || offs > end || !known) {
    printf("weight %s: not an F32, F16 or BF16 entry\n", name);
    exit(2);
  }
  int64_t sizes[8];
  int rank = 0;
  char *p = strchr(shape, '[') + 1;
  while (*p != ']') {
    if (*p == ',' || *p == ' ') { p++; continue; }
    sizes[rank++] = strtoll(p, &p, 10);
  }
  p = strchr(offs, '[') + 1;
  int64_t start = strtoll(p, &p, 10);
  Weight w = {desc(file_data + 8 + header_len + start, rank, sizes), rank};
  return w;
}

// Fills args[at...] with the weights named in `list`; returns the next free index.
static int bind_weights(void **args, int at, const char *list, Weight *store) {
  char name[512];
  int n = 0;
  for (const char *p = list; *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    memcpy(name, p, len);
    name[len] = 0;
    store[n] = weight(name);
    args[at++] = &store[n].d;
    n++;
    p += len + (nl ? 1 : 0);
  }
  return at;
}

static void call(Kernel k, void **a) {
  void (*f)(
#define P10 void *, void *, void *, void *, void *, void *, void *, void *, void *, void *
      P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10) = (void (*)(
      P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10, P10))k;
#define A10(i) a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5], a[i + 6], a[i + 7], a[i + 8], a[i + 9]
  f(A10(0), A10(10), A10(20), A10(30), A10(40), A10(50), A10(60), A10(70), A10(80), A10(90), A10(100), A10(110),
    A10(120), A10(130), A10(140), A10(150));
}

// ---- reference ----
static FILE *ref;
static int next_record(char *key, double **values) {
  int n;
  if (fscanf(ref, "%63s", key) != 1) return -1;
  if (!strcmp(key, "case") || !strcmp(key, "end")) return 0;
  if (fscanf(ref, "%d", &n) != 1) return -1;
  *values = malloc(sizeof(double) * (n ? n : 1));
  for (int i = 0; i < n; i++) fscanf(ref, "%lf", &(*values)[i]);
  return n;
}

static int failures = 0;
// |got - want| <= 1e-5 + 1e-4 |want| for every entry; prints the largest error.
static void compare(const char *what, int c, const float *got, const double *want, int n) {
  double max_abs = 0, max_ratio = 0;
  int worst = 0;
  for (int i = 0; i < n; i++) {
    double err = fabs(got[i] - want[i]);
    double ratio = err / (1e-5 + 1e-4 * fabs(want[i]));
    if (!(ratio <= max_ratio)) { max_ratio = ratio; worst = i; }
    if (err > max_abs) max_abs = err;
  }
  int ok = max_ratio <= 1.0;
  printf("case %d %s %s: max |err| %.3g, max err/tol %.3f (at %d: got %.8g want %.8g)\n", c, what, ok ? "ok" : "FAIL",
         max_abs, max_ratio, worst, got[worst], want[worst]);
  if (!ok) failures++;
}

static int argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

#ifdef LLAMA
extern const char CAT(MODEL, _prefill__weights)[];
extern const char CAT(MODEL, _decode_step__weights)[];
void CAT(_mlir_ciface_, CAT(MODEL, _prefill))();
void CAT(_mlir_ciface_, CAT(MODEL, _decode_step))();
enum { CACHE = L * C * KV * HD };
static const int64_t cache_sizes[4] = {L, C, KV, HD};
static Weight prefill_w[MAXARGS], decode_w[MAXARGS];

// logits, k, v = prefill(ids)
static void prefill(int64_t *ids, int64_t t, float *logits, int64_t vocab, float *k, float *v) {
  void *a[MAXARGS] = {0};
  Desc di = desc(ids, 1, &t), dl = desc(logits, 1, &vocab), dk = desc(k, 4, cache_sizes), dv = desc(v, 4, cache_sizes);
  int n = 0;
  a[n++] = &di;
  n = bind_weights(a, n, CAT(MODEL, _prefill__weights), prefill_w);
  a[n++] = &dl, a[n++] = &dk, a[n++] = &dv, a[n++] = 0;  // workgroup 0
  call((Kernel)CAT(_mlir_ciface_, CAT(MODEL, _prefill)), a);
}

// logits, k2, v2 = decode_step(token, position, k, v)
static void decode(int64_t token, int64_t position, float *k, float *v, float *logits, int64_t vocab, float *k2, float *v2) {
  void *a[MAXARGS] = {0};
  Desc dt = desc(&token, 0, 0), dp = desc(&position, 0, 0), dk = desc(k, 4, cache_sizes), dv = desc(v, 4, cache_sizes);
  Desc dl = desc(logits, 1, &vocab), dk2 = desc(k2, 4, cache_sizes), dv2 = desc(v2, 4, cache_sizes);
  int n = 0;
  a[n++] = &dt, a[n++] = &dp, a[n++] = &dk, a[n++] = &dv;
  n = bind_weights(a, n, CAT(MODEL, _decode_step__weights), decode_w);
  a[n++] = &dl, a[n++] = &dk2, a[n++] = &dv2, a[n++] = 0;
  call((Kernel)CAT(_mlir_ciface_, CAT(MODEL, _decode_step)), a);
}

static void run_case(int c, double *ids_d, int t, double *want, int vocab, double *new_ids, int n_new, int64_t dec_token,
                     int64_t dec_pos, double *dec_want) {
  int64_t *ids = malloc(sizeof(int64_t) * t);
  for (int i = 0; i < t; i++) ids[i] = (int64_t)ids_d[i];
  float *logits = malloc(sizeof(float) * vocab), *k = calloc(CACHE, 4), *v = calloc(CACHE, 4);
  float *k2 = calloc(CACHE, 4), *v2 = calloc(CACHE, 4);
  prefill(ids, t, logits, vocab, k, v);
  compare("prefill logits", c, logits, want, vocab);
  decode(dec_token, dec_pos, k, v, logits, vocab, k2, v2);
  compare("decode logits", c, logits, dec_want, vocab);
  // Greedy: token = argmax(logits); (logits, k, v) = decode_step(token, T + i, k, v).
  prefill(ids, t, logits, vocab, k, v);
  int ok = 1;
  printf("case %d greedy:", c);
  for (int i = 0; i < n_new; i++) {
    int token = argmax(logits, vocab);
    printf(" %d", token);
    if (token != (int)new_ids[i]) ok = 0;
    if (i + 1 < n_new) {
      decode(token, t + i, k, v, logits, vocab, k2, v2);
      float *s = k; k = k2, k2 = s;
      s = v; v = v2, v2 = s;
    }
  }
  printf(" %s\n", ok ? "ok" : "FAIL");
  if (!ok) {
    printf("case %d greedy want:", c);
    for (int i = 0; i < n_new; i++) printf(" %d", (int)new_ids[i]);
    printf("\n");
    failures++;
  }
}
#endif

#ifdef BERT
extern const char CAT(MODEL, _encode__weights)[];
void CAT(_mlir_ciface_, CAT(MODEL, _encode))();
static Weight encode_w[MAXARGS];

// embedding = encode(ids, mask)
static void encode(int64_t *ids, float *mask, int64_t t, float *out, int64_t h) {
  void *a[MAXARGS] = {0};
  Desc di = desc(ids, 1, &t), dm = desc(mask, 1, &t), dout = desc(out, 1, &h);
  int n = 0;
  a[n++] = &di, a[n++] = &dm;
  n = bind_weights(a, n, CAT(MODEL, _encode__weights), encode_w);
  a[n++] = &dout, a[n++] = 0;
  call((Kernel)CAT(_mlir_ciface_, CAT(MODEL, _encode)), a);
}

static void check_embedding(int c, const char *what, const float *got, const double *want, int h) {
#ifdef COSINE
  double dot = 0, ng = 0, nw = 0, max_abs = 0;
  for (int i = 0; i < h; i++) {
    dot += got[i] * want[i], ng += (double)got[i] * got[i], nw += want[i] * want[i];
    if (fabs(got[i] - want[i]) > max_abs) max_abs = fabs(got[i] - want[i]);
  }
  double cosine = dot / sqrt(ng * nw);
  int ok = cosine >= 0.9999;
  printf("case %d %s %s: cosine %.9f, max |err| %.3g\n", c, what, ok ? "ok" : "FAIL", cosine, max_abs);
  if (!ok) failures++;
  compare(what, c, got, want, h);  // and elementwise, as the tiny models
#else
  compare(what, c, got, want, h);
#endif
}

static void run_case(int c, double *ids_d, int t, double *want, int h) {
  // As given (mask all ones), then padded with 5 [PAD] (id 0) tokens masked out.
  int64_t *ids = calloc(t + 5, sizeof(int64_t));
  float *mask = calloc(t + 5, sizeof(float)), *out = malloc(sizeof(float) * h);
  for (int i = 0; i < t; i++) ids[i] = (int64_t)ids_d[i], mask[i] = 1;
  encode(ids, mask, t, out, h);
  check_embedding(c, "embedding", out, want, h);
  encode(ids, mask, t + 5, out, h);
  check_embedding(c, "padded embedding", out, want, h);
}
#endif

int main(int argc, char **argv) {
  if (argc != 3) { printf("usage: harness model.safetensors reference.txt\n"); return 2; }
  load_safetensors(argv[1]);
  ref = fopen(argv[2], "r");
  if (!ref) { printf("cannot open %s\n", argv[2]); return 2; }
  char key[64];
  double *values = 0, *ids = 0, *logits = 0, *new_ids = 0, *dec_logits = 0, *embedding = 0;
  int n, t = 0, vocab = 0, n_new = 0, h = 0, c = 0;
  int64_t dec_token = 0, dec_pos = 0;
  while ((n = next_record(key, &values)) >= 0) {
    if (!strcmp(key, "ids")) ids = values, t = n;
    else if (!strcmp(key, "logits")) logits = values, vocab = n;
    else if (!strcmp(key, "new_ids")) new_ids = values, n_new = n;
    else if (!strcmp(key, "decode_token")) dec_token = (int64_t)values[0];
    else if (!strcmp(key, "decode_position")) dec_pos = (int64_t)values[0];
    else if (!strcmp(key, "decode_logits")) dec_logits = values;
    else if (!strcmp(key, "embedding")) embedding = values, h = n;
    else if (!strcmp(key, "end")) {
#ifdef LLAMA
      run_case(c, ids, t, logits, vocab, new_ids, n_new, dec_token, dec_pos, dec_logits);
#endif
#ifdef BERT
      run_case(c, ids, t, embedding, h);
#endif
      c++;
    }
  }
  (void)logits, (void)new_ids, (void)dec_logits, (void)embedding, (void)vocab, (void)n_new, (void)h;
  printf("%d cases, %s\n", c, failures ? "FAIL" : "all ok");
  return failures != 0;
}
