//===- timer.c - Time one compiled attention kernel ------------------------===//
//
// Loads a shared library built by aot.py, fills q, k and v with random
// values and calls the C interface of an attention function
// `f(q, k, v[, q_pos, k_pos]) -> tensor` repeatedly. Prints the median time
// and the minimum time of one call in seconds and the number of timed
// calls. Built at benchmark time with clang-22 -O2.
//
// Usage: timer LIB FUNC B HQ TQ D HKV TK DV QPOS KPOS DYNAMIC MIN_SECONDS
//
//===----------------------------------------------------------------------===//

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} MemRef4D;

typedef void (*StaticKernel)(MemRef4D *, MemRef4D *, MemRef4D *, MemRef4D *);
typedef void (*DynamicKernel)(MemRef4D *, MemRef4D *, MemRef4D *, MemRef4D *,
                              int64_t, int64_t);

static MemRef4D makeTensor(int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  MemRef4D memref;
  int64_t count = d0 * d1 * d2 * d3;
  float *data = aligned_alloc(64, ((count * 4 + 63) / 64) * 64 + 64);
  for (int64_t i = 0; i < count; ++i)
    data[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  memref.allocated = data;
  memref.aligned = data;
  memref.offset = 0;
  int64_t sizes[4] = {d0, d1, d2, d3};
  int64_t stride = 1;
  for (int axis = 3; axis >= 0; --axis) {
    memref.sizes[axis] = sizes[axis];
    memref.strides[axis] = stride;
    stride *= sizes[axis];
  }
  return memref;
}

static double now(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return time.tv_sec + time.tv_nsec * 1e-9;
}

static int compareDoubles(const void *lhs, const void *rhs) {
  double a = *(const double *)lhs, b = *(const double *)rhs;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  if (argc != 14) {
    fprintf(stderr, "usage: %s LIB FUNC B HQ TQ D HKV TK DV QPOS KPOS DYNAMIC "
                    "MIN_SECONDS\n", argv[0]);
    return 2;
  }
  void *library = dlopen(argv[1], RTLD_NOW);
  if (!library) {
    fprintf(stderr, "failed to load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  char symbol[256];
  snprintf(symbol, sizeof(symbol), "_mlir_ciface_%s", argv[2]);
  void *function = dlsym(library, symbol);
  if (!function) {
    fprintf(stderr, "symbol %s not found in %s\n", symbol, argv[1]);
    return 1;
  }

  int64_t batch = atoll(argv[3]), queryHeads = atoll(argv[4]);
  int64_t queries = atoll(argv[5]), headDim = atoll(argv[6]);
  int64_t kvHeads = atoll(argv[7]), keys = atoll(argv[8]);
  int64_t valueDim = atoll(argv[9]);
  int64_t qPos = atoll(argv[10]), kPos = atoll(argv[11]);
  int dynamicPositions = atoi(argv[12]);
  double minSeconds = atof(argv[13]);

  MemRef4D q = makeTensor(batch, queryHeads, queries, headDim);
  MemRef4D k = makeTensor(batch, kvHeads, keys, headDim);
  MemRef4D v = makeTensor(batch, kvHeads, keys, valueDim);

  enum { kMaxRuns = 10000 };
  static double times[kMaxRuns];
  int runs = 0;
  double start = now();
  // Two warm-up calls, then at least 5 timed calls and minSeconds in all.
  for (int call = 0; call < kMaxRuns + 2; ++call) {
    MemRef4D out;
    double before = now();
    if (dynamicPositions)
      ((DynamicKernel)function)(&out, &q, &k, &v, qPos, kPos);
    else
      ((StaticKernel)function)(&out, &q, &k, &v);
    double after = now();
    free(out.allocated);
    if (call < 2)
      continue;
    times[runs++] = after - before;
    if (runs >= 5 && after - start >= minSeconds)
      break;
  }
  qsort(times, runs, sizeof(double), compareDoubles);
  printf("%.9g %.9g %d\n", times[runs / 2], times[0], runs);
  return 0;
}
