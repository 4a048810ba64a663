//===- DecomposeUtils.h - Helpers of the rill to linalg lowering -*- C++
//-*-===//
//
// Small IR-building helpers shared by the attention and rotary
// decompositions (element type conversion, broadcast indices, elementwise
// and row-reduction linalg.generic ops), and the precondition checks that
// both the patterns and the pass report.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_CONVERSION_RILLTOLINALG_DECOMPOSEUTILS_H
#define RILL_LIB_CONVERSION_RILLTOLINALG_DECOMPOSEUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>

namespace mlir::rill {

class AttentionOp;
class RotaryOp;

/// Returns why `op` cannot be decomposed, or an empty string if it can.
std::string getAttentionDecompositionFailure(AttentionOp op);

/// Returns why `op` cannot be decomposed, or an empty string if it can.
std::string getRotaryDecompositionFailure(RotaryOp op);

/// Returns `type` as printed in MLIR assembly, for failure messages.
std::string printType(Type type);

/// Returns true for f16, bf16, f32 and f64.
bool isSupportedFloat(Type type);

/// Returns the type that attention arithmetic runs in for `elementType`:
/// f32 for f16 and bf16, else `elementType` itself.
Type getComputeType(Type elementType);

/// Converts the float `value` to `type` with extf or truncf (or not at all).
Value convertFloat(OpBuilder &builder, Location loc, Value value, Type type);

/// Returns the constant -inf of the float `type`.
Value buildNegativeInfinity(OpBuilder &builder, Location loc, Type type);

/// Returns an i1 that is true when dimension `dim` of `tensor` is 1; a
/// constant when the dimension is static.
Value buildDimIsOne(OpBuilder &builder, Location loc, Value tensor,
                    int64_t dim);

/// Returns 0 where `isOne` is true (a broadcast dimension) and `index`
/// elsewhere. Folds to one of the two when `isOne` is a constant.
Value buildBroadcastIndex(OpBuilder &builder, Location loc, Value index,
                          Value isOne);

/// Element function of buildElementwise: maps one element to the result.
using ElementFn = llvm::function_ref<Value(OpBuilder &, Location, Value)>;

/// Returns a linalg.generic that applies `fn` to every element of the
/// ranked tensor `input`, producing a tensor of `resultElementType`.
/// `fn` may read the loop indices through linalg.index.
Value buildElementwise(OpBuilder &builder, Location loc, Value input,
                       Type resultElementType, ElementFn fn);

/// Combiner of buildRowReduction: (element, accumulator) to accumulator.
using CombineFn =
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)>;

/// Returns a linalg.generic that reduces the innermost dimension of
/// `input` into `init` (one rank less) with `combine`.
Value buildRowReduction(OpBuilder &builder, Location loc, Value input,
                        Value init, CombineFn combine);

} // namespace mlir::rill

#endif // RILL_LIB_CONVERSION_RILLTOLINALG_DECOMPOSEUTILS_H
