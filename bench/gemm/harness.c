/*===- harness.c - Timing harness for the GEMM benchmark ------------------===//
 *
 * Times C += A * B (row-major float32, A [M,K], B [K,N]) for every kernel
 * listed in the generated kernels.inc, against OpenBLAS's cblas_sgemm on one
 * thread and the fp32 FMA peak measured in the same process. Each kernel is
 * checked against OpenBLAS before it is timed. run.py generates kernels.inc,
 * compiles the kernels and this file, and reads the CSV lines printed here.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} MemRef2;

typedef void (*KernelFn)(MemRef2 *result, MemRef2 *a, MemRef2 *b, MemRef2 *c);

/* A kernel either updates C in place and returns it, or returns a buffer of
 * its own (rillc's matrix-product kernel writes a fresh output). Releases
 * such a buffer; the cost of allocating it is part of the kernel's time. */
static void releaseResult(MemRef2 *result, const float *c) {
  if (result->allocated != c)
    free(result->allocated);
}

typedef struct {
  const char *variant;
  int64_t m, k, n;
  KernelFn function;
} Kernel;

#define KERNEL(variant, m, k, n, symbol)                                      \
  extern void symbol(MemRef2 *, MemRef2 *, MemRef2 *, MemRef2 *);
#include "kernels.inc"
#undef KERNEL

static const Kernel kKernels[] = {
#define KERNEL(variant, m, k, n, symbol) {variant, m, k, n, symbol},
#include "kernels.inc"
#undef KERNEL
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static MemRef2 describe(float *data, int64_t rows, int64_t columns) {
  MemRef2 memref = {data, data, 0, {rows, columns}, {columns, 1}};
  return memref;
}

/* Best GFLOP/s of `repeats` timings of enough calls to last ~`seconds`. */
static double timeKernel(const Kernel *kernel, float *a, float *b, float *c,
                         double seconds, int repeats) {
  double flops = 2.0 * kernel->m * kernel->k * kernel->n;
  MemRef2 ma = describe(a, kernel->m, kernel->k);
  MemRef2 mb = describe(b, kernel->k, kernel->n);
  MemRef2 mc = describe(c, kernel->m, kernel->n);
  MemRef2 result;
  double start = now();
  kernel->function(&result, &ma, &mb, &mc);
  releaseResult(&result, c);
  double once = now() - start;
  long calls = once > 0 ? (long)(seconds / repeats / once) : 1000;
  if (calls < 1)
    calls = 1;
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    start = now();
    for (long i = 0; i < calls; ++i) {
      kernel->function(&result, &ma, &mb, &mc);
      releaseResult(&result, c);
    }
    double rate = flops * calls / (now() - start) / 1e9;
    if (rate > best)
      best = rate;
  }
  return best;
}

static double timeOpenBLAS(int64_t m, int64_t k, int64_t n, float *a, float *b,
                           float *c, double seconds, int repeats) {
  double flops = 2.0 * m * k * n;
  double start = now();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b,
              n, 1.0f, c, n);
  double once = now() - start;
  long calls = once > 0 ? (long)(seconds / repeats / once) : 1000;
  if (calls < 1)
    calls = 1;
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    start = now();
    for (long i = 0; i < calls; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a,
                  k, b, n, 1.0f, c, n);
    double rate = flops * calls / (now() - start) / 1e9;
    if (rate > best)
      best = rate;
  }
  return best;
}

/* fp32 FMA throughput with 12 independent accumulators of `lanes` floats. */
__attribute__((target("avx512f"))) static double peak512(void) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps((float)i);
  __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  long iterations = 20000000;
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    double start = now();
    for (long i = 0; i < iterations; ++i)
      for (int j = 0; j < 12; ++j)
        acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    double rate = 2.0 * 16 * 12 * iterations / (now() - start) / 1e9;
    if (rate > best)
      best = rate;
  }
  float sink = 0;
  for (int i = 0; i < 12; ++i)
    sink += _mm512_reduce_add_ps(acc[i]);
  if (sink == 12345.0f)
    printf("#\n");
  return best;
}

__attribute__((target("avx2,fma"))) static double peak256(void) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps((float)i);
  __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  long iterations = 20000000;
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    double start = now();
    for (long i = 0; i < iterations; ++i)
      for (int j = 0; j < 12; ++j)
        acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    double rate = 2.0 * 8 * 12 * iterations / (now() - start) / 1e9;
    if (rate > best)
      best = rate;
  }
  float sink = 0;
  float lanes[8];
  for (int i = 0; i < 12; ++i) {
    _mm256_storeu_ps(lanes, acc[i]);
    sink += lanes[0];
  }
  if (sink == 12345.0f)
    printf("#\n");
  return best;
}

static void fillRandom(float *data, int64_t count, unsigned seed) {
  for (int64_t i = 0; i < count; ++i) {
    seed = seed * 1664525u + 1013904223u;
    data[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0.3;
  int repeats = 3;
  openblas_set_num_threads(1);

  printf("peak,avx512,%.1f\n", peak512());
  printf("peak,avx2,%.1f\n", peak256());
  fflush(stdout);

  size_t count = sizeof(kKernels) / sizeof(kKernels[0]);
  for (size_t i = 0; i < count; ++i) {
    const Kernel *kernel = &kKernels[i];
    int64_t m = kernel->m, k = kernel->k, n = kernel->n;
    float *a = aligned_alloc(64, ((m * k * 4 + 63) / 64) * 64);
    float *b = aligned_alloc(64, ((k * n * 4 + 63) / 64) * 64);
    float *c = aligned_alloc(64, ((m * n * 4 + 63) / 64) * 64);
    float *expected = aligned_alloc(64, ((m * n * 4 + 63) / 64) * 64);
    fillRandom(a, m * k, 1);
    fillRandom(b, k * n, 2);

    /* Check once with C = 0, then time C += A * B. */
    memset(c, 0, m * n * 4);
    memset(expected, 0, m * n * 4);
    MemRef2 ma = describe(a, m, k), mb = describe(b, k, n),
            mc = describe(c, m, n), result;
    kernel->function(&result, &ma, &mb, &mc);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k,
                b, n, 0.0f, expected, n);
    const float *output = result.aligned + result.offset;
    double error = 0;
    for (int64_t j = 0; j < m * n; ++j)
      error = fmax(error, fabs((double)output[j] - expected[j]));
    releaseResult(&result, c);

    double rate = timeKernel(kernel, a, b, c, seconds, repeats);
    printf("kernel,%s,%lld,%lld,%lld,%.2f,%.3g\n", kernel->variant,
           (long long)m, (long long)k, (long long)n, rate, error);
    if (i + 1 == count || kKernels[i + 1].m != m || kKernels[i + 1].k != k ||
        kKernels[i + 1].n != n) {
      double blas = timeOpenBLAS(m, k, n, a, b, c, seconds, repeats);
      printf("kernel,openblas,%lld,%lld,%lld,%.2f,0\n", (long long)m,
             (long long)k, (long long)n, blas);
    }
    fflush(stdout);
    free(a);
    free(b);
    free(c);
    free(expected);
  }
  return 0;
}
