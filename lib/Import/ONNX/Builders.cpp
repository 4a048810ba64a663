//===- Builders.cpp - IR building helpers for the ONNX importer -----------===//
//
// Implements the shape arithmetic and linalg builders declared in
// Builders.h. Every builder works on ranked tensors with static or unknown
// sizes, and folds size arithmetic whenever the operands are constants so
// that static shapes stay static.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::rill::onnx_import;

std::optional<int64_t> mlir::rill::onnx_import::getConstant(OpFoldResult ofr) {
  return getConstantIntValue(ofr);
}

Value mlir::rill::onnx_import::toIndexValue(OpBuilder &b, Location loc,
                                            OpFoldResult ofr) {
  if (std::optional<int64_t> c = getConstant(ofr))
    return arith::ConstantIndexOp::create(b, loc, *c);
  return cast<Value>(ofr);
}

static int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

OpFoldResult mlir::rill::onnx_import::foldIndexArith(OpBuilder &b,
                                                     Location loc,
                                                     IndexArith kind,
                                                     OpFoldResult lhs,
                                                     OpFoldResult rhs) {
  std::optional<int64_t> l = getConstant(lhs), r = getConstant(rhs);
  if (l && r) {
    switch (kind) {
    case IndexArith::Add:
      return b.getIndexAttr(*l + *r);
    case IndexArith::Sub:
      return b.getIndexAttr(*l - *r);
    case IndexArith::Mul:
      return b.getIndexAttr(*l * *r);
    case IndexArith::FloorDiv:
      if (*r != 0)
        return b.getIndexAttr(floorDiv(*l, *r));
      break;
    case IndexArith::CeilDiv:
      if (*r != 0)
        return b.getIndexAttr(-floorDiv(-*l, *r));
      break;
    case IndexArith::Min:
      return b.getIndexAttr(std::min(*l, *r));
    case IndexArith::Max:
      return b.getIndexAttr(std::max(*l, *r));
    }
  }

  // Identities keep shapes such as `x * 1` or `x + 0` free of new ops.
  if (kind == IndexArith::Mul && r == 1)
    return lhs;
  if (kind == IndexArith::Mul && l == 1)
    return rhs;
  if ((kind == IndexArith::Add || kind == IndexArith::Sub) && r == 0)
    return lhs;
  if (kind == IndexArith::Add && l == 0)
    return rhs;
  if ((kind == IndexArith::FloorDiv || kind == IndexArith::CeilDiv) && r == 1)
    return lhs;

  Value lv = toIndexValue(b, loc, lhs), rv = toIndexValue(b, loc, rhs);
  switch (kind) {
  case IndexArith::Add:
    return b.createOrFold<arith::AddIOp>(loc, lv, rv);
  case IndexArith::Sub:
    return b.createOrFold<arith::SubIOp>(loc, lv, rv);
  case IndexArith::Mul:
    return b.createOrFold<arith::MulIOp>(loc, lv, rv);
  case IndexArith::FloorDiv:
    return b.createOrFold<arith::FloorDivSIOp>(loc, lv, rv);
  case IndexArith::CeilDiv:
    return b.createOrFold<arith::CeilDivSIOp>(loc, lv, rv);
  case IndexArith::Min:
    return b.createOrFold<arith::MinSIOp>(loc, lv, rv);
  case IndexArith::Max:
    return b.createOrFold<arith::MaxSIOp>(loc, lv, rv);
  }
  llvm_unreachable("unknown index arithmetic");
}

/// Follows an unknown size back through the ops that produced `value` to
/// the earliest tensor it is read from, so that equal sizes computed along
/// different paths become the same `tensor.dim` of the same source.
static OpFoldResult resolveDim(OpBuilder &b, Location loc, Value value,
                               int64_t index) {
  for (int depth = 0; depth < 64; ++depth) {
    auto type = cast<RankedTensorType>(value.getType());
    if (!type.isDynamicDim(index))
      return b.getIndexAttr(type.getDimSize(index));
    auto result = dyn_cast<OpResult>(value);
    if (!result)
      break;
    Operation *op = result.getOwner();
    OpFoldResult size;
    if (auto reshape = dyn_cast<tensor::ReshapeOp>(op)) {
      // Reshapes built by the importer take their shape from elements.
      auto fromElements =
          reshape.getShape().getDefiningOp<tensor::FromElementsOp>();
      if (!fromElements)
        break;
      Value element = fromElements.getElements()[index];
      if (auto cast = element.getDefiningOp<arith::IndexCastOp>())
        element = cast.getIn();
      if (!element.getType().isIndex())
        break;
      size = element;
    } else if (auto castOp = dyn_cast<tensor::CastOp>(op)) {
      size = tensor::getMixedSize(b, loc, castOp.getSource(), index);
    } else if (auto reify = dyn_cast<ReifyRankedShapedTypeOpInterface>(op)) {
      OpBuilder::InsertionGuard guard(b);
      ReifiedRankedShapedTypeDims shapes;
      if (failed(reifyResultShapes(b, op, shapes)))
        break;
      size = shapes[result.getResultNumber()][index];
    } else {
      break;
    }
    if (getConstant(size))
      return size;
    auto dim = cast<Value>(size).getDefiningOp<tensor::DimOp>();
    std::optional<int64_t> dimIndex =
        dim ? getConstantIntValue(dim.getIndex()) : std::nullopt;
    if (!dimIndex)
      return size;
    value = dim.getSource();
    index = *dimIndex;
  }
  return tensor::getMixedSize(b, loc, value, index);
}

Dims mlir::rill::onnx_import::getDims(OpBuilder &b, Location loc,
                                      Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  Dims dims;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    dims.push_back(resolveDim(b, loc, value, i));
  return dims;
}

bool mlir::rill::onnx_import::isSameSize(OpFoldResult lhs, OpFoldResult rhs) {
  std::optional<int64_t> l = getConstant(lhs), r = getConstant(rhs);
  if (l || r)
    return l == r;
  Value lv = cast<Value>(lhs), rv = cast<Value>(rhs);
  if (lv == rv)
    return true;
  auto ld = lv.getDefiningOp<tensor::DimOp>();
  auto rd = rv.getDefiningOp<tensor::DimOp>();
  if (!ld || !rd || ld.getSource() != rd.getSource())
    return false;
  std::optional<int64_t> li = getConstantIntValue(ld.getIndex());
  return li && li == getConstantIntValue(rd.getIndex());
}

SmallVector<int64_t>
mlir::rill::onnx_import::getStaticShape(ArrayRef<OpFoldResult> dims) {
  SmallVector<int64_t> shape;
  for (OpFoldResult dim : dims)
    shape.push_back(getConstant(dim).value_or(ShapedType::kDynamic));
  return shape;
}

FailureOr<Dims>
mlir::rill::onnx_import::broadcastDims(Builder &b, ArrayRef<Dims> shapes,
                                       std::string &error) {
  size_t rank = 0;
  for (const Dims &shape : shapes)
    rank = std::max(rank, shape.size());

  Dims result;
  for (size_t i = 0; i < rank; ++i) {
    OpFoldResult chosen;
    std::optional<int64_t> chosenStatic;
    for (const Dims &shape : shapes) {
      if (i + shape.size() < rank)
        continue;
      OpFoldResult dim = shape[i + shape.size() - rank];
      std::optional<int64_t> value = getConstant(dim);
      if (value == 1)
        continue;
      if (value) {
        if (chosenStatic && *chosenStatic != *value) {
          error = "incompatible broadcast sizes " +
                  std::to_string(*chosenStatic) + " and " +
                  std::to_string(*value) + " in dimension " +
                  std::to_string(i) + " of the result";
          return failure();
        }
        chosen = dim;
        chosenStatic = value;
        continue;
      }
      // NOTE: an unknown size is assumed to match the other non-1 sizes;
      // an unknown size that is 1 at run time does not broadcast.
      if (!chosen)
        chosen = dim;
    }
    if (!chosen)
      chosen = b.getIndexAttr(1);
    result.push_back(chosen);
  }
  return result;
}

Value mlir::rill::onnx_import::createEmpty(OpBuilder &b, Location loc,
                                           ArrayRef<OpFoldResult> dims,
                                           Type elementType) {
  return tensor::EmptyOp::create(b, loc, dims, elementType);
}

TypedAttr mlir::rill::onnx_import::getScalarAttr(Type type, double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return FloatAttr::get(floatType, value);
  if (type.isIndex())
    return IntegerAttr::get(type, static_cast<int64_t>(value));
  if (type.isInteger(1))
    return IntegerAttr::get(type, value != 0.0 ? 1 : 0);
  return IntegerAttr::get(type, static_cast<int64_t>(value));
}

Value mlir::rill::onnx_import::createScalar(OpBuilder &b, Location loc,
                                            Type type, double value) {
  return arith::ConstantOp::create(b, loc, getScalarAttr(type, value));
}

Value mlir::rill::onnx_import::createFilled(OpBuilder &b, Location loc,
                                            ArrayRef<OpFoldResult> dims,
                                            TypedAttr value) {
  Value empty = createEmpty(b, loc, dims, value.getType());
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

/// Returns the map from the iteration space of a broadcast over `resultRank`
/// dimensions to `operand`'s dimensions.
static AffineMap getBroadcastMap(MLIRContext *ctx, RankedTensorType operand,
                                 ArrayRef<OpFoldResult> resultDims) {
  int64_t resultRank = resultDims.size();
  int64_t offset = resultRank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool broadcasts = operand.getDimSize(i) == 1 &&
                      getConstant(resultDims[offset + i]) != 1;
    exprs.push_back(broadcasts ? getAffineConstantExpr(0, ctx)
                               : getAffineDimExpr(offset + i, ctx));
  }
  return AffineMap::get(resultRank, 0, exprs, ctx);
}

Value mlir::rill::onnx_import::buildBroadcastGeneric(
    OpBuilder &b, Location loc, ValueRange inputs,
    ArrayRef<OpFoldResult> resultDims, Type resultElementType,
    ScalarBodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(getBroadcastMap(
        ctx, cast<RankedTensorType>(input.getType()), resultDims));
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultDims.size(), ctx));

  Value init = createEmpty(b, loc, resultDims, resultElementType);
  SmallVector<utils::IteratorType> iterators(resultDims.size(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

FailureOr<Value> mlir::rill::onnx_import::buildElementwise(
    OpBuilder &b, Location loc, ValueRange inputs, Type resultElementType,
    ScalarBodyFn body, std::string &error) {
  SmallVector<Dims> shapes;
  for (Value input : inputs)
    shapes.push_back(getDims(b, loc, input));
  FailureOr<Dims> resultDims = broadcastDims(b, shapes, error);
  if (failed(resultDims))
    return failure();
  return buildBroadcastGeneric(b, loc, inputs, *resultDims, resultElementType,
                               body);
}

static TypedAttr getReductionIdentity(Type type, ReduceKind kind) {
  switch (kind) {
  case ReduceKind::Sum:
    return getScalarAttr(type, 0.0);
  case ReduceKind::Prod:
    return getScalarAttr(type, 1.0);
  case ReduceKind::Max:
  case ReduceKind::Min: {
    bool isMax = kind == ReduceKind::Max;
    if (auto floatType = dyn_cast<FloatType>(type))
      return FloatAttr::get(
          floatType, APFloat::getInf(floatType.getFloatSemantics(), isMax));
    unsigned width = type.getIntOrFloatBitWidth();
    if (width == 1)
      return IntegerAttr::get(type, isMax ? 0 : 1);
    return IntegerAttr::get(type, isMax ? APInt::getSignedMinValue(width)
                                        : APInt::getSignedMaxValue(width));
  }
  }
  llvm_unreachable("unknown reduction");
}

static Value combineReduction(OpBuilder &b, Location loc, ReduceKind kind,
                              Value acc, Value x) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case ReduceKind::Sum:
    return isFloat ? arith::AddFOp::create(b, loc, acc, x).getResult()
                   : arith::AddIOp::create(b, loc, acc, x).getResult();
  case ReduceKind::Prod:
    return isFloat ? arith::MulFOp::create(b, loc, acc, x).getResult()
                   : arith::MulIOp::create(b, loc, acc, x).getResult();
  case ReduceKind::Max:
    return isFloat ? arith::MaximumFOp::create(b, loc, acc, x).getResult()
                   : arith::MaxSIOp::create(b, loc, acc, x).getResult();
  case ReduceKind::Min:
    return isFloat ? arith::MinimumFOp::create(b, loc, acc, x).getResult()
                   : arith::MinSIOp::create(b, loc, acc, x).getResult();
  }
  llvm_unreachable("unknown reduction");
}

Value mlir::rill::onnx_import::buildReduction(OpBuilder &b, Location loc,
                                              Value input,
                                              ArrayRef<int64_t> axes,
                                              bool keepDims, ReduceKind kind) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  Dims inputDims = getDims(b, loc, input);

  Dims reducedDims;
  SmallVector<AffineExpr> outputExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (reduced)
      continue;
    reducedDims.push_back(inputDims[i]);
    outputExprs.push_back(getAffineDimExpr(i, ctx));
  }

  Value init = createFilled(b, loc, reducedDims,
                            getReductionIdentity(type.getElementType(), kind));
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, ctx),
      AffineMap::get(rank, 0, outputExprs, ctx)};
  Value reduced =
      linalg::GenericOp::create(
          b, loc, init.getType(), input, init, maps, iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value result = combineReduction(nb, nloc, kind, args[1], args[0]);
            linalg::YieldOp::create(nb, nloc, result);
          })
          .getResult(0);
  if (!keepDims)
    return reduced;

  // Put the size-1 dimensions back, each grouped with a kept neighbour.
  SmallVector<ReassociationIndices> groups;
  SmallVector<int64_t> keptShape;
  Dims keptDims;
  ReassociationIndices pending;
  for (int64_t i = 0; i < rank; ++i) {
    pending.push_back(i);
    bool isReduced = llvm::is_contained(axes, i);
    keptShape.push_back(isReduced ? 1 : type.getDimSize(i));
    keptDims.push_back(isReduced ? OpFoldResult(b.getIndexAttr(1))
                                 : inputDims[i]);
    if (!isReduced) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  auto keptType = RankedTensorType::get(keptShape, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, keptType, reduced, groups,
                                       keptDims);
}

Value mlir::rill::onnx_import::buildElementCount(OpBuilder &b, Location loc,
                                                 Value input,
                                                 ArrayRef<int64_t> axes,
                                                 Type elementType) {
  Dims dims = getDims(b, loc, input);
  OpFoldResult count = b.getIndexAttr(1);
  for (int64_t axis : axes)
    count = foldIndexArith(b, loc, IndexArith::Mul, count, dims[axis]);
  if (std::optional<int64_t> c = getConstant(count))
    return createScalar(b, loc, elementType, static_cast<double>(*c));
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                           cast<Value>(count));
  if (isa<FloatType>(elementType))
    return arith::SIToFPOp::create(b, loc, elementType, asInt);
  return b.createOrFold<arith::TruncIOp>(loc, elementType, asInt);
}

FailureOr<Value> mlir::rill::onnx_import::buildMatMul(OpBuilder &b,
                                                      Location loc, Value lhs,
                                                      Value rhs,
                                                      std::string &error) {
  MLIRContext *ctx = b.getContext();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0) {
    error = "matmul operands must have rank >= 1";
    return failure();
  }
  Dims lhsDims = getDims(b, loc, lhs), rhsDims = getDims(b, loc, rhs);
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;

  // Split each operand into batch dimensions and the matrix dimensions,
  // promoting vectors to matrices as numpy does.
  Dims lhsBatch(lhsDims.begin(), lhsDims.end() - (lhsVector ? 1 : 2));
  Dims rhsBatch(rhsDims.begin(), rhsDims.end() - (rhsVector ? 1 : 2));
  OpFoldResult kLhs = lhsDims.back();
  OpFoldResult kRhs = rhsVector ? rhsDims.back() : rhsDims[rhsDims.size() - 2];
  std::optional<int64_t> kl = getConstant(kLhs), kr = getConstant(kRhs);
  if (kl && kr && *kl != *kr) {
    error = "matmul contraction sizes differ (" + std::to_string(*kl) +
            " vs " + std::to_string(*kr) + ")";
    return failure();
  }
  FailureOr<Dims> batch = broadcastDims(b, {lhsBatch, rhsBatch}, error);
  if (failed(batch))
    return failure();

  // Iteration space: batch..., m, n, k (m and n only for matrix operands).
  int64_t numBatch = batch->size();
  int64_t pos = numBatch;
  std::optional<int64_t> mPos, nPos;
  if (!lhsVector)
    mPos = pos++;
  if (!rhsVector)
    nPos = pos++;
  int64_t kPos = pos++;
  int64_t numLoops = pos;

  auto batchExprs = [&](RankedTensorType type, int64_t numOperandBatch) {
    SmallVector<AffineExpr> exprs;
    int64_t offset = numBatch - numOperandBatch;
    for (int64_t i = 0; i < numOperandBatch; ++i) {
      bool broadcasts = type.getDimSize(i) == 1 &&
                        getConstant((*batch)[offset + i]) != 1;
      exprs.push_back(broadcasts ? getAffineConstantExpr(0, ctx)
                                 : getAffineDimExpr(offset + i, ctx));
    }
    return exprs;
  };
  SmallVector<AffineExpr> lhsExprs = batchExprs(lhsType, lhsBatch.size());
  if (mPos)
    lhsExprs.push_back(getAffineDimExpr(*mPos, ctx));
  lhsExprs.push_back(getAffineDimExpr(kPos, ctx));
  SmallVector<AffineExpr> rhsExprs = batchExprs(rhsType, rhsBatch.size());
  rhsExprs.push_back(getAffineDimExpr(kPos, ctx));
  if (nPos)
    rhsExprs.push_back(getAffineDimExpr(*nPos, ctx));
  SmallVector<AffineExpr> outExprs;
  Dims outDims(*batch);
  for (int64_t i = 0; i < numBatch; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  if (mPos) {
    outExprs.push_back(getAffineDimExpr(*mPos, ctx));
    outDims.push_back(lhsDims[lhsDims.size() - 2]);
  }
  if (nPos) {
    outExprs.push_back(getAffineDimExpr(*nPos, ctx));
    outDims.push_back(rhsDims.back());
  }

  Type elementType = lhsType.getElementType();
  Value init = createFilled(b, loc, outDims, getScalarAttr(elementType, 0.0));
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, lhsExprs, ctx),
                                 AffineMap::get(numLoops, 0, rhsExprs, ctx),
                                 AffineMap::get(numLoops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::parallel);
  iterators[kPos] = utils::IteratorType::reduction;
  bool isFloat = isa<FloatType>(elementType);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{lhs, rhs}, init, maps,
             iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value product, sum;
               if (isFloat) {
                 product = arith::MulFOp::create(nb, nloc, args[0], args[1]);
                 sum = arith::AddFOp::create(nb, nloc, args[2], product);
               } else {
                 product = arith::MulIOp::create(nb, nloc, args[0], args[1]);
                 sum = arith::AddIOp::create(nb, nloc, args[2], product);
               }
               linalg::YieldOp::create(nb, nloc, sum);
             })
      .getResult(0);
}

Value mlir::rill::onnx_import::materializeElements(
    OpBuilder &b, Location loc, ArrayRef<OpFoldResult> elements,
    RankedTensorType type) {
  Type elementType = type.getElementType();
  bool allConstant = llvm::all_of(
      elements, [](OpFoldResult e) { return getConstant(e).has_value(); });
  if (allConstant) {
    SmallVector<APInt> values;
    unsigned width = elementType.isIndex()
                         ? IndexType::kInternalStorageBitWidth
                         : elementType.getIntOrFloatBitWidth();
    for (OpFoldResult e : elements)
      values.push_back(APInt(width, *getConstant(e), /*isSigned=*/true,
                             /*implicitTrunc=*/true));
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }

  SmallVector<Value> scalars;
  for (OpFoldResult e : elements) {
    Value index = toIndexValue(b, loc, e);
    scalars.push_back(
        b.createOrFold<arith::IndexCastOp>(loc, elementType, index));
  }
  return tensor::FromElementsOp::create(b, loc, type, scalars);
}

Value mlir::rill::onnx_import::buildReshape(OpBuilder &b, Location loc,
                                            Value input,
                                            ArrayRef<OpFoldResult> dims) {
  auto type = cast<RankedTensorType>(input.getType());
  auto resultType =
      RankedTensorType::get(getStaticShape(dims), type.getElementType());
  if (resultType == type)
    return input;
  auto shapeType = RankedTensorType::get({static_cast<int64_t>(dims.size())},
                                         b.getIndexType());
  Value shape = materializeElements(b, loc, dims, shapeType);
  return tensor::ReshapeOp::create(b, loc, resultType, input, shape);
}

Value mlir::rill::onnx_import::buildTranspose(OpBuilder &b, Location loc,
                                              Value input,
                                              ArrayRef<int64_t> permutation) {
  auto type = cast<RankedTensorType>(input.getType());
  Dims dims = getDims(b, loc, input);
  Dims permuted;
  for (int64_t p : permutation)
    permuted.push_back(dims[p]);
  Value init = createEmpty(b, loc, permuted, type.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, permutation)
      .getResult()[0];
}

Value mlir::rill::onnx_import::convertScalar(OpBuilder &b, Location loc,
                                             Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);

  if (to.isInteger(1)) {
    if (fromFloat) {
      Value zero = createScalar(b, loc, from, 0.0);
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   zero);
    }
    Value zero = createScalar(b, loc, from, 0.0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value,
                                 zero);
  }
  if (from.isInteger(1)) {
    if (toFloat)
      return arith::UIToFPOp::create(b, loc, to, value);
    return arith::ExtUIOp::create(b, loc, to, value);
  }
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() < toFloat.getWidth())
      return arith::ExtFOp::create(b, loc, to, value);
    return arith::TruncFOp::create(b, loc, to, value);
  }
  if (fromFloat)
    return arith::FPToSIOp::create(b, loc, to, value);
  if (toFloat)
    return arith::SIToFPOp::create(b, loc, to, value);
  if (from.isIndex() || to.isIndex())
    return arith::IndexCastOp::create(b, loc, to, value);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return arith::ExtSIOp::create(b, loc, to, value);
  return arith::TruncIOp::create(b, loc, to, value);
}
