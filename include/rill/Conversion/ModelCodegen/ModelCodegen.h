//===- ModelCodegen.h - Lowering of a model's dense layers ------*- C++ -*-===//
//
// Declares the code generation of the non-attention parts of a model:
// matrix products (linalg.matmul, linalg.batch_matmul and contraction
// linalg.generic ops, which is how the ONNX importer writes MatMul and
// Gemm), normalizations and elementwise ops. Contractions are tiled into
// register blocks and vectorized, so that each block becomes a sequence of
// broadcast-and-FMA vector operations; the remaining ops keep their
// lowering through the rest of the CPU pipeline.
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

/// Register-block sizes of the contraction kernel.
struct ModelCodegenOptions {
  /// Rows of the output block (broadcast operands per step).
  int64_t rowTile = 8;
  /// Columns of the output block, a multiple of the vector width.
  int64_t columnTile = 32;
  /// Reduction steps per vector contraction.
  int64_t reductionTile = 1;
};

/// Adds the model code generation passes to `pm` (anchored on
/// builtin.module); they run on tensors, before bufferization.
void addModelCodegenPasses(OpPassManager &pm,
                           const ModelCodegenOptions &options);

} // namespace rill
} // namespace mlir

#endif // RILL_CONVERSION_MODELCODEGEN_MODELCODEGEN_H
