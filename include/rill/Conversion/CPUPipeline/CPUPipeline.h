//===- CPUPipeline.h - The tiled, vectorized CPU pipeline -------*- C++ -*-===//
//
// Declares `rill-cpu-pipeline`, which lowers tensor-level Rill IR to the
// LLVM dialect through the tiled attention kernel, vector code, OpenMP for
// the parallel loops and polynomial exp/tanh. The reference pipeline stays
// the correctness baseline; this one is meant to be fast.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_CPUPIPELINE_CPUPIPELINE_H
#define RILL_CONVERSION_CPUPIPELINE_CPUPIPELINE_H

#include "mlir/Pass/PassOptions.h"

#include <cstdint>

namespace mlir {
class OpPassManager;

namespace rill {

/// Options of `rill-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> queryTile{
      *this, "query-tile",
      llvm::cl::desc("Query rows per head in one attention block"),
      llvm::cl::init(16)};
  PassOptions::Option<int64_t> keyTile{
      *this, "key-tile",
      llvm::cl::desc("Keys per attention tile (the unit of tile skipping)"),
      llvm::cl::init(32)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width", llvm::cl::desc("f32 lanes per vector"),
      llvm::cl::init(16)};
  PassOptions::Option<bool> prefetch{
      *this, "prefetch",
      llvm::cl::desc("Prefetch the next key and value tile in attention"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> matmulRowTile{
      *this, "matmul-row-tile",
      llvm::cl::desc("Output rows per register block of a matrix product"),
      llvm::cl::init(6)};
  PassOptions::Option<int64_t> matmulColumnVectors{
      *this, "matmul-column-vectors",
      llvm::cl::desc("Output vectors per row of a matrix-product register "
                     "block"),
      llvm::cl::init(2)};
  PassOptions::Option<int64_t> matmulVectorWidth{
      *this, "matmul-vector-width",
      llvm::cl::desc("f32 lanes per vector in matrix products (8 for AVX2, "
                     "16 for AVX-512; the block must fit the target's "
                     "vector registers)"),
      llvm::cl::init(8)};
  PassOptions::Option<bool> matmulPackWeights{
      *this, "matmul-pack-weights",
      llvm::cl::desc("Repack constant matrix-product weights into "
                     "contiguous panels of one register block's columns"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse elementwise producers into their consumers where "
                     "no element is computed twice"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> openMP{
      *this, "openmp",
      llvm::cl::desc("Run attention blocks in parallel with OpenMP (the "
                     "thread count comes from OMP_NUM_THREADS at run time)"),
      llvm::cl::init(true)};
};

/// Adds the CPU pipeline to `pm`, which must be anchored on builtin.module:
/// tile rill.attention (rill-tile-attention), decompose the remaining rill
/// ops with the reference lowering, bufferize (function boundaries with
/// identity layouts), insert deallocations, lower linalg to loops,
/// approximate exp and tanh by polynomials, turn scf.parallel into OpenMP,
/// and lower memref, vector, OpenMP, math, arith, cf and func to LLVM.
/// Public functions with `llvm.emit_c_interface` get C wrappers.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `rill-cpu-pipeline` with the global pass registry.
void registerCPUPipeline();

} // namespace rill
} // namespace mlir

#endif // RILL_CONVERSION_CPUPIPELINE_CPUPIPELINE_H
