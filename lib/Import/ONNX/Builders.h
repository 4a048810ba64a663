//===- Builders.h - IR building helpers for the ONNX importer ---*- C++ -*-===//
//
// Shape arithmetic on OpFoldResult (constants fold, unknown sizes become
// `index` SSA values) and builders for the linalg patterns that many ONNX
// operators share: numpy-broadcasting elementwise ops, reductions, batched
// matrix products and reshapes. Nothing here depends on protobuf.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_IMPORT_ONNX_BUILDERS_H
#define RILL_LIB_IMPORT_ONNX_BUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mlir::rill::onnx_import {

using Dims = SmallVector<OpFoldResult>;

/// Body of an elementwise op: receives the scalar of each input in order
/// and returns the scalar result.
using ScalarBodyFn =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// Returns the static value of `ofr`, if it has one.
std::optional<int64_t> getConstant(OpFoldResult ofr);

/// Converts `ofr` to an `index` SSA value, creating a constant if needed.
Value toIndexValue(OpBuilder &b, Location loc, OpFoldResult ofr);

/// Integer arithmetic on sizes that folds when both sides are constants.
enum class IndexArith { Add, Sub, Mul, FloorDiv, CeilDiv, Min, Max };
OpFoldResult foldIndexArith(OpBuilder &b, Location loc, IndexArith kind,
                            OpFoldResult lhs, OpFoldResult rhs);

/// Returns the sizes of the ranked tensor `value` (constants for static
/// dimensions, `tensor.dim` otherwise).
Dims getDims(OpBuilder &b, Location loc, Value value);

/// Returns whether two sizes are provably equal: equal constants, the same
/// value, or `tensor.dim` of the same tensor and dimension.
bool isSameSize(OpFoldResult lhs, OpFoldResult rhs);

/// Returns the static shape that `dims` describe (`?` for unknown sizes).
SmallVector<int64_t> getStaticShape(ArrayRef<OpFoldResult> dims);

/// Computes the numpy broadcast of several shapes. Returns failure and sets
/// `error` when two static sizes differ and neither is 1. Two unknown sizes
/// are assumed to be equal.
FailureOr<Dims> broadcastDims(Builder &b, ArrayRef<Dims> shapes,
                              std::string &error);

/// Creates `tensor.empty` with the given sizes.
Value createEmpty(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims,
                  Type elementType);

/// Creates a tensor with the given sizes filled with `value`.
Value createFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims,
                   TypedAttr value);

/// Returns a scalar constant of `type` (float, integer or index).
Value createScalar(OpBuilder &b, Location loc, Type type, double value);

/// Returns the typed attribute for `value` in `type`.
TypedAttr getScalarAttr(Type type, double value);

/// Builds a `linalg.generic` over `resultDims` whose inputs broadcast to
/// the result with numpy rules: an input aligns with the trailing result
/// dimensions, and its static size-1 dimensions repeat.
Value buildBroadcastGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                            ArrayRef<OpFoldResult> resultDims,
                            Type resultElementType, ScalarBodyFn body);

/// Builds an elementwise op of `inputs` with numpy broadcasting. Returns
/// failure and sets `error` on incompatible shapes.
FailureOr<Value> buildElementwise(OpBuilder &b, Location loc,
                                  ValueRange inputs, Type resultElementType,
                                  ScalarBodyFn body, std::string &error);

/// Reductions available to `buildReduction`.
enum class ReduceKind { Sum, Max, Min, Prod };

/// Reduces `input` over the sorted, non-negative `axes`. With `keepDims` the
/// reduced dimensions stay as size 1.
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, bool keepDims, ReduceKind kind);

/// Returns the number of elements in the given dimensions of `input` as a
/// scalar of `elementType`.
Value buildElementCount(OpBuilder &b, Location loc, Value input,
                        ArrayRef<int64_t> axes, Type elementType);

/// Builds numpy `matmul` semantics: 1-D operands are promoted, leading
/// batch dimensions broadcast. Returns failure and sets `error` when the
/// contraction sizes are statically different.
FailureOr<Value> buildMatMul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                             std::string &error);

/// Reshapes `input` to `dims` with `tensor.reshape`. The caller guarantees
/// that the element counts agree.
Value buildReshape(OpBuilder &b, Location loc, Value input,
                   ArrayRef<OpFoldResult> dims);

/// Permutes the dimensions of `input` with `linalg.transpose`.
Value buildTranspose(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> permutation);

/// Converts a scalar between element types with ONNX `Cast` semantics
/// (float to integer truncates, anything to bool compares with zero).
Value convertScalar(OpBuilder &b, Location loc, Value value, Type to);

/// Materializes small integer tensor contents (constants or `index`
/// values) as a tensor of `type`.
Value materializeElements(OpBuilder &b, Location loc,
                          ArrayRef<OpFoldResult> elements,
                          RankedTensorType type);

} // namespace mlir::rill::onnx_import

#endif // RILL_LIB_IMPORT_ONNX_BUILDERS_H
