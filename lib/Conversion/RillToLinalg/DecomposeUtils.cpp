//===- DecomposeUtils.cpp - Helpers of the rill to linalg lowering -------===//
//
// Implements the IR-building helpers shared by the attention and rotary
// decompositions.
//
//===----------------------------------------------------------------------===//

#include "DecomposeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::rill;

std::string mlir::rill::printType(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

bool mlir::rill::isSupportedFloat(Type type) {
  return type.isF16() || type.isBF16() || type.isF32() || type.isF64();
}

Type mlir::rill::getComputeType(Type elementType) {
  if (elementType.isF16() || elementType.isBF16())
    return Float32Type::get(elementType.getContext());
  return elementType;
}

Value mlir::rill::convertFloat(OpBuilder &builder, Location loc, Value value,
                               Type type) {
  auto sourceType = cast<FloatType>(value.getType());
  auto targetType = cast<FloatType>(type);
  if (sourceType == targetType)
    return value;
  if (sourceType.getWidth() < targetType.getWidth())
    return arith::ExtFOp::create(builder, loc, type, value);
  return arith::TruncFOp::create(builder, loc, type, value);
}

Value mlir::rill::buildNegativeInfinity(OpBuilder &builder, Location loc,
                                        Type type) {
  return arith::ConstantOp::create(
      builder, loc,
      builder.getFloatAttr(type, -std::numeric_limits<double>::infinity()));
}

Value mlir::rill::buildDimIsOne(OpBuilder &builder, Location loc, Value tensor,
                                int64_t dim) {
  int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(size))
    return arith::ConstantOp::create(builder, loc,
                                     builder.getBoolAttr(size == 1));
  Value dynamicSize = tensor::DimOp::create(builder, loc, tensor, dim);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                               dynamicSize, one);
}

Value mlir::rill::buildBroadcastIndex(OpBuilder &builder, Location loc,
                                      Value index, Value isOne) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  if (auto constant = isOne.getDefiningOp<arith::ConstantOp>())
    return cast<BoolAttr>(constant.getValue()).getValue() ? zero : index;
  return arith::SelectOp::create(builder, loc, isOne, zero, index);
}

Value mlir::rill::buildElementwise(OpBuilder &builder, Location loc,
                                   Value input, Type resultElementType,
                                   ElementFn fn) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  Value init = tensor::EmptyOp::create(
      builder, loc, tensor::getMixedSizes(builder, loc, input),
      resultElementType);
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(rank, builder.getContext());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{input}, ValueRange{init},
             SmallVector<AffineMap>{identity, identity}, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(nested, l, fn(nested, l, args[0]));
             })
      .getResult(0);
}

Value mlir::rill::buildRowReduction(OpBuilder &builder, Location loc,
                                    Value input, Value init,
                                    CombineFn combine) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  MLIRContext *context = builder.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap dropLast = identity.getMajorSubMap(rank - 1);
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{input}, ValueRange{init},
             SmallVector<AffineMap>{identity, dropLast}, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(nested, l,
                                       combine(nested, l, args[0], args[1]));
             })
      .getResult(0);
}
