//===- ModelCodegen.h - Lowering of a model's dense layers ------*- C++ -*-===//
//
// Declares the code generation of a model's matrix products: f32
// contraction linalg.generic ops with a constant-shaped right-hand side,
// which is how the ONNX importer writes MatMul and Gemm. Each becomes
// register-blocked loops of broadcast-and-FMA vector operations; every
// other op keeps its lowering through the rest of the CPU pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_MODELCODEGEN_MODELCODEGEN_H
#define RILL_CONVERSION_MODELCODEGEN_MODELCODEGEN_H

#include <cstdint>

namespace mlir {
class OpPassManager;
class RewriterBase;
class Operation;

namespace linalg {
class LinalgOp;
} // namespace linalg

namespace rill {

/// Register-block sizes of the matrix-product kernel. The defaults fill
/// the 16 vector registers of AVX2: 6 x 2 accumulators, 2 weight vectors
/// and one broadcast.
struct ModelCodegenOptions {
  /// Rows of the output block (broadcast operands per reduction step).
  int64_t rowTile = 6;
  /// Vectors of columns per output row of a block.
  int64_t columnVectors = 2;
  /// f32 lanes per vector (8 for AVX2, 16 for AVX-512).
  int64_t vectorWidth = 8;
  /// Emit scf.parallel over the blocks, which rill-cpu-pipeline turns into
  /// OpenMP.
  bool parallel = true;
  /// Multiply-adds (rows x K x N) below which a product runs sequentially
  /// even with `parallel`: starting an OpenMP region costs microseconds.
  int64_t parallelThreshold = 1 << 16;
  /// Accumulator vectors a block keeps at least: a block with fewer (one
  /// row of a decode step) splits the reduction into partial sums, so that
  /// consecutive FMAs do not wait on each other.
  int64_t minAccumulators = 8;
  /// Repack constant weights into panels of one column block each, so that
  /// a block reads its weights as one contiguous stream.
  bool packWeights = true;
};

/// Adds the model code generation pass to `pm` (anchored on
/// builtin.module); it runs on tensors, before bufferization.
void addModelCodegenPasses(OpPassManager &pm,
                           const ModelCodegenOptions &options);

/// Registers `rill-model-codegen` (default block sizes) with the global
/// pass registry, for rill-opt and lit tests.
void registerModelCodegenPass();

} // namespace rill
} // namespace mlir

#endif // RILL_CONVERSION_MODELCODEGEN_MODELCODEGEN_H
