// Runs the byte dot-product helpers (kernel-x86-avx2-dot-exact.mlir's run_* wrappers)
// on pseudo-random and extreme inputs and compares every 32-bit lane with the helpers'
// definition: lane l = acc[l] + sum over k < 4 of a[4l+k] (unsigned) * b[4l+k] (signed).
// The u4 helpers' unsigned bytes are nibbles (< 16), their contract. Prints one line per
// helper and exits non-zero on any difference.
#include <stdint.h>
#include <stdio.h>

typedef void (*helper_fn)(int32_t *acc, uint8_t *a, int8_t *b, int32_t *out);
#define DECLARE(tag, bits) void run_##tag##_##bits(int32_t *, uint8_t *, int8_t *, int32_t *);
DECLARE(u8, 128) DECLARE(u8, 256) DECLARE(u8, 512) DECLARE(u4, 128) DECLARE(u4, 256) DECLARE(u4, 512)

static uint32_t state = 2463534242u;
static uint32_t next(void) {
  state ^= state << 13; state ^= state >> 17; state ^= state << 5;
  return state;
}

static int check(const char *name, helper_fn f, int bytes, int nibbles) {
  int lanes = bytes / 4;
  long differ = 0, total = 0;
  for (int it = 0; it < 20000; it++) {
    int32_t acc[16], out[16];
    uint8_t a[64];
    int8_t b[64];
    for (int l = 0; l < lanes; l++) acc[l] = (int32_t)next() >> 4;
    for (int i = 0; i < bytes; i++) {
      // Every fourth run the extremes: the largest unsigned byte against -128 and 127.
      uint8_t top = nibbles ? 15 : 255;
      a[i] = it % 4 == 0 ? top : (uint8_t)(nibbles ? next() % 16 : next() >> 24);
      b[i] = it % 4 == 0 ? (int8_t)((it / 4) % 2 ? -128 : 127) : (int8_t)(next() >> 24);
    }
    f(acc, a, b, out);
    for (int l = 0; l < lanes; l++) {
      int32_t want = acc[l];
      for (int k = 0; k < 4; k++) want += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
      total++;
      differ += want != out[l];
    }
  }
  printf("%s: %ld lanes, %ld differ\n", name, total, differ);
  return differ != 0;
}

int main(void) {
  int bad = 0;
  bad |= check("u8 128", run_u8_128, 16, 0);
  bad |= check("u8 256", run_u8_256, 32, 0);
  bad |= check("u8 512", run_u8_512, 64, 0);
  bad |= check("u4 128", run_u4_128, 16, 1);
  bad |= check("u4 256", run_u4_256, 32, 1);
  bad |= check("u4 512", run_u4_512, 64, 1);
  return bad;
}
