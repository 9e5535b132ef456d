// Runs the byte dot-product helpers (kernel-x86-avx2-dot-exact.mlir's run_* wrappers)
// on pseudo-random and extreme inputs and compares every 32-bit lane with the helpers'
// definition: lane l = acc[l] + sum over k < 4 of a[4l+k] * b[4l+k], b signed and a
// unsigned (u8, u4) or signed (i8). The u4 helpers' unsigned bytes are nibbles (< 16) and
// the i8 helpers' b bytes are never -128, their contracts. Prints one line per helper and
// exits non-zero on any difference.
#include <stdint.h>
#include <stdio.h>

typedef void (*helper_fn)(int32_t *acc, uint8_t *a, int8_t *b, int32_t *out);
#define DECLARE(tag, bits) void run_##tag##_##bits(int32_t *, uint8_t *, int8_t *, int32_t *);
DECLARE(u8, 128) DECLARE(u8, 256) DECLARE(u8, 512) DECLARE(u4, 128) DECLARE(u4, 256) DECLARE(u4, 512)
DECLARE(i8, 128) DECLARE(i8, 256) DECLARE(i8, 512)

static uint32_t state = 2463534242u;
static uint32_t next(void) {
  state ^= state << 13; state ^= state >> 17; state ^= state << 5;
  return state;
}

enum kind { U8, U4, I8 };

static int check(const char *name, helper_fn f, int bytes, enum kind kind) {
  int lanes = bytes / 4;
  long differ = 0, total = 0;
  for (int it = 0; it < 20000; it++) {
    int32_t acc[16], out[16];
    uint8_t a[64];
    int8_t b[64];
    for (int l = 0; l < lanes; l++) acc[l] = (int32_t)next() >> 4;
    for (int i = 0; i < bytes; i++) {
      // Every fourth run the extremes: the largest byte in magnitude against the smallest
      // b (-128; -127 for i8) and 127.
      uint8_t top = kind == U4 ? 15 : kind == U8 ? 255 : 0x80;
      int8_t low = kind == I8 ? -127 : -128;
      a[i] = it % 4 == 0 ? top : (uint8_t)(kind == U4 ? next() % 16 : next() >> 24);
      b[i] = it % 4 == 0 ? ((it / 4) % 2 ? low : 127) : kind == I8 ? (int8_t)(next() % 255 - 127) : (int8_t)(next() >> 24);
    }
    f(acc, a, b, out);
    for (int l = 0; l < lanes; l++) {
      int32_t want = acc[l];
      for (int k = 0; k < 4; k++) {
        int32_t av = kind == I8 ? (int32_t)(int8_t)a[4 * l + k] : (int32_t)a[4 * l + k];
        want += av * (int32_t)b[4 * l + k];
      }
      total++;
      differ += want != out[l];
    }
  }
  printf("%s: %ld lanes, %ld differ\n", name, total, differ);
  return differ != 0;
}

int main(void) {
  int bad = 0;
  bad |= check("u8 128", run_u8_128, 16, U8);
  bad |= check("u8 256", run_u8_256, 32, U8);
  bad |= check("u8 512", run_u8_512, 64, U8);
  bad |= check("u4 128", run_u4_128, 16, U4);
  bad |= check("u4 256", run_u4_256, 32, U4);
  bad |= check("u4 512", run_u4_512, 64, U4);
  bad |= check("i8 128", run_i8_128, 16, I8);
  bad |= check("i8 256", run_i8_256, 32, I8);
  bad |= check("i8 512", run_i8_512, 64, I8);
  return bad;
}
