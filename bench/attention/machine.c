//===- machine.c - Memory bandwidth and FMA peak of this machine -----------===//
//
// Measures the two ceilings that the attention benchmarks quote fractions
// of: a STREAM-style triad (a[i] = b[i] + s * c[i] over arrays far larger
// than the caches, counted as 3 x 4 bytes per element) and an fp32 FMA loop
// with independent accumulators (2 flops per lane per FMA). Both run with
// OpenMP on the threads that OMP_NUM_THREADS selects. Built at benchmark
// time with clang-22 -O3 -march=native -fopenmp, so the FMA loop uses the
// widest vectors the CPU has.
//
// Prints one line: "<triad GB/s> <FMA GFLOP/s>", the best of several runs.
//
//===----------------------------------------------------------------------===//

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef float Vector __attribute__((vector_size(64)));

static double now(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return time.tv_sec + time.tv_nsec * 1e-9;
}

static double measureTriad(void) {
  const long count = 1L << 25; // 128 MiB per array.
  float *a = aligned_alloc(64, count * sizeof(float));
  float *b = aligned_alloc(64, count * sizeof(float));
  float *c = aligned_alloc(64, count * sizeof(float));
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  double best = 1e30;
  for (int run = 0; run < 6; ++run) {
    double start = now();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; ++i)
      a[i] = b[i] + 0.5f * c[i];
    double elapsed = now() - start;
    if (elapsed < best)
      best = elapsed;
  }
  volatile float sink = a[count / 2];
  (void)sink;
  free(a);
  free(b);
  free(c);
  return 3.0 * 4.0 * count / best / 1e9;
}

// Twelve independent accumulators hide the FMA latency.
static double measureFma(void) {
  const long iterations = 20000000;
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    double start = now();
    float total = 0.0f;
#pragma omp parallel reduction(+ : total)
    {
      Vector x = {0}, y, acc[12];
      for (int lane = 0; lane < 16; ++lane)
        y[lane] = 0.999999f + lane * 1e-9f;
      for (int j = 0; j < 12; ++j)
        acc[j] = x + (float)j;
      for (long i = 0; i < iterations; ++i) {
#pragma unroll
        for (int j = 0; j < 12; ++j)
          acc[j] = acc[j] * y + y;
        __asm__ volatile("" : "+v"(y));
      }
      for (int j = 0; j < 12; ++j)
        total += acc[j][0];
    }
    double elapsed = now() - start;
    volatile float sink = total;
    (void)sink;
    if (elapsed < best)
      best = elapsed;
  }
  double flops = (double)iterations * 12 * 16 * 2 * omp_get_max_threads();
  return flops / best / 1e9;
}

int main(void) {
  double triad = measureTriad();
  double fma = measureFma();
  printf("%.3f %.3f\n", triad, fma);
  return 0;
}
