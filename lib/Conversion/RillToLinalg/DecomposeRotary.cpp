//===- DecomposeRotary.cpp - rill.rotary to linalg -------------*- C++ -*-===//
//
// The reference lowering of rill.rotary: one linalg.generic over
// (b, h, t, c) that reads channel c and its pair partner, reads cos and
// sin from the op's tables or from tables of every (batch, token, pair)
// computed first in f64 from theta, and writes the rotated channel.
// Channels at or past the rotary dimension pass through unchanged.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToLinalg/RillToLinalg.h"

#include "DecomposeUtils.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// The pair layout of one channel: which rotation pair it belongs to, its
/// partner channel and whether it is the first member of the pair.
struct ChannelPair {
  Value pairIndex;
  Value partner;
  Value isFirst;
};

/// Builds the body of the rotary linalg.generic.
class RotaryBuilder {
public:
  RotaryBuilder(OpBuilder &builder, RotaryOp op)
      : builder(builder), op(op), loc(op.getLoc()),
        elementType(op.getInput().getType().getElementType()) {}

  Value build();

private:
  /// Returns the pair of `channel`, for a channel below the rotary dim.
  ChannelPair buildPair(OpBuilder &b, Location l, Value channel);
  /// Returns cos and sin of the angle of pair `pairIndex` for batch
  /// `batch` and token `token`, in the element type, from the op's tables
  /// or from those of buildAngleTables.
  std::pair<Value, Value> buildCosSin(OpBuilder &b, Location l, Value batch,
                                      Value token, Value pairIndex);
  /// For a theta rotary: computes cos and sin of every (position batch,
  /// token, pair) once into `cosTable` and `sinTable`, so that the
  /// elementwise rotation reads them instead of evaluating sin and cos per
  /// head and per channel.
  void buildAngleTables();
  /// Returns cos and sin of the angle of pair `pairIndex` at `position`,
  /// computed in f64, in the element type.
  std::pair<Value, Value> buildAngle(OpBuilder &b, Location l, Value position,
                                     Value pairIndex);
  /// Returns `position` (an integer or index) as an index or f64 value.
  Value buildPositionIndex(OpBuilder &b, Location l, Value position);
  Value buildPositionFloat(OpBuilder &b, Location l, Value position);

  OpBuilder &builder;
  RotaryOp op;
  Location loc;
  Type elementType;
  Value rotaryDim;
  Value positionsBatchIsOne;
  /// [position batch, token, pair] tables of a theta rotary.
  Value cosTable, sinTable;
};

} // namespace

ChannelPair RotaryBuilder::buildPair(OpBuilder &b, Location l, Value channel) {
  Value one = arith::ConstantIndexOp::create(b, l, 1);
  Value two = arith::ConstantIndexOp::create(b, l, 2);
  ChannelPair pair;

  if (op.getInterleaved()) {
    // Pairs (2i, 2i + 1).
    pair.pairIndex = arith::DivUIOp::create(b, l, channel, two);
    Value parity = arith::RemUIOp::create(b, l, channel, two);
    Value zero = arith::ConstantIndexOp::create(b, l, 0);
    pair.isFirst =
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, parity, zero);
    Value next = arith::AddIOp::create(b, l, channel, one);
    Value previous = arith::SubIOp::create(b, l, channel, one);
    pair.partner = arith::SelectOp::create(b, l, pair.isFirst, next, previous);
    return pair;
  }

  // Half-split pairs (i, i + rd / 2).
  Value half = arith::DivUIOp::create(b, l, rotaryDim, two);
  pair.isFirst =
      arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, channel, half);
  Value upper = arith::AddIOp::create(b, l, channel, half);
  Value lower = arith::SubIOp::create(b, l, channel, half);
  pair.pairIndex = arith::SelectOp::create(b, l, pair.isFirst, channel, lower);
  pair.partner = arith::SelectOp::create(b, l, pair.isFirst, upper, lower);
  return pair;
}

Value RotaryBuilder::buildPositionIndex(OpBuilder &b, Location l,
                                        Value position) {
  if (position.getType().isIndex())
    return position;
  return arith::IndexCastOp::create(b, l, b.getIndexType(), position);
}

Value RotaryBuilder::buildPositionFloat(OpBuilder &b, Location l,
                                        Value position) {
  if (position.getType().isIndex())
    position = arith::IndexCastOp::create(b, l, b.getI64Type(), position);
  return arith::SIToFPOp::create(b, l, b.getF64Type(), position);
}

std::pair<Value, Value> RotaryBuilder::buildCosSin(OpBuilder &b, Location l,
                                                   Value batch, Value token,
                                                   Value pairIndex) {
  Value positionBatch = buildBroadcastIndex(b, l, batch, positionsBatchIsOne);
  if (Value opCosTable = op.getCosTable()) {
    Value position = tensor::ExtractOp::create(b, l, op.getPositions(),
                                               ValueRange{positionBatch, token});
    SmallVector<Value> indices = {buildPositionIndex(b, l, position),
                                  pairIndex};
    Value cos = tensor::ExtractOp::create(b, l, opCosTable, indices);
    Value sin = tensor::ExtractOp::create(b, l, op.getSinTable(), indices);
    return {convertFloat(b, l, cos, elementType),
            convertFloat(b, l, sin, elementType)};
  }
  SmallVector<Value> indices = {positionBatch, token, pairIndex};
  return {tensor::ExtractOp::create(b, l, cosTable, indices),
          tensor::ExtractOp::create(b, l, sinTable, indices)};
}

void RotaryBuilder::buildAngleTables() {
  Value positions = op.getPositions();
  Value two = arith::ConstantIndexOp::create(builder, loc, 2);
  Value pairs = arith::DivUIOp::create(builder, loc, rotaryDim, two);
  SmallVector<OpFoldResult> sizes = {
      tensor::getMixedSize(builder, loc, positions, 0),
      tensor::getMixedSize(builder, loc, positions, 1), pairs};
  Value empty = tensor::EmptyOp::create(builder, loc, sizes, elementType);
  AffineMap identity = builder.getMultiDimIdentityMap(3);
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  auto tables = linalg::GenericOp::create(
      builder, loc, TypeRange{empty.getType(), empty.getType()},
      ValueRange{}, ValueRange{empty, empty},
      SmallVector<AffineMap>{identity, identity}, iterators,
      [&](OpBuilder &b, Location l, ValueRange) {
        Value batch = linalg::IndexOp::create(b, l, 0);
        Value token = linalg::IndexOp::create(b, l, 1);
        Value pairIndex = linalg::IndexOp::create(b, l, 2);
        Value position = tensor::ExtractOp::create(b, l, positions,
                                                   ValueRange{batch, token});
        auto [cos, sin] = buildAngle(b, l, position, pairIndex);
        linalg::YieldOp::create(b, l, ValueRange{cos, sin});
      });
  cosTable = tables.getResult(0);
  sinTable = tables.getResult(1);
}

std::pair<Value, Value> RotaryBuilder::buildAngle(OpBuilder &b, Location l,
                                                  Value position,
                                                  Value pairIndex) {
  // angle = position * theta^(-2 i / rd), all in f64 so that positions past
  // 10^6 keep sub-radian precision.
  Type f64 = b.getF64Type();
  Value pairInteger =
      arith::IndexCastUIOp::create(b, l, b.getI64Type(), pairIndex);
  Value rotaryDimInteger =
      arith::IndexCastUIOp::create(b, l, b.getI64Type(), rotaryDim);
  Value two = arith::ConstantIntOp::create(b, l, 2, 64);
  Value twice = arith::UIToFPOp::create(
      b, l, f64, arith::MulIOp::create(b, l, pairInteger, two));
  Value exponent = arith::NegFOp::create(
      b, l,
      arith::DivFOp::create(
          b, l, twice, arith::UIToFPOp::create(b, l, f64, rotaryDimInteger)));
  Value theta = arith::ConstantOp::create(b, l, op.getThetaAttr());
  Value inverseFrequency = math::PowFOp::create(b, l, theta, exponent);
  Value angle = arith::MulFOp::create(b, l, buildPositionFloat(b, l, position),
                                      inverseFrequency);
  Value cos = math::CosOp::create(b, l, angle);
  Value sin = math::SinOp::create(b, l, angle);
  return {convertFloat(b, l, cos, elementType),
          convertFloat(b, l, sin, elementType)};
}

Value RotaryBuilder::build() {
  Value input = op.getInput();
  Value positions = op.getPositions();
  int64_t staticRotaryDim = op.getEffectiveRotaryDim();
  rotaryDim =
      ShapedType::isDynamic(staticRotaryDim)
          ? tensor::DimOp::create(builder, loc, input, 3).getResult()
          : arith::ConstantIndexOp::create(builder, loc, staticRotaryDim)
                .getResult();
  positionsBatchIsOne = buildDimIsOne(builder, loc, positions, 0);
  if (!op.getCosTable())
    buildAngleTables();

  return buildElementwise(
      builder, loc, input, elementType,
      [&](OpBuilder &b, Location l, Value element) -> Value {
        Value batch = linalg::IndexOp::create(b, l, 0);
        Value head = linalg::IndexOp::create(b, l, 1);
        Value token = linalg::IndexOp::create(b, l, 2);
        Value channel = linalg::IndexOp::create(b, l, 3);
        Value rotated = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                              channel, rotaryDim);

        // Every index stays in bounds for pass-through channels too, since
        // both branches are computed and a select picks one.
        ChannelPair pair = buildPair(b, l, channel);
        Value zero = arith::ConstantIndexOp::create(b, l, 0);
        Value partner =
            arith::SelectOp::create(b, l, rotated, pair.partner, channel);
        Value pairIndex =
            arith::SelectOp::create(b, l, rotated, pair.pairIndex, zero);

        Value partnerElement = tensor::ExtractOp::create(
            b, l, input, ValueRange{batch, head, token, partner});
        auto [cos, sin] = buildCosSin(b, l, batch, token, pairIndex);

        // (x0, x1) -> (x0 cos - x1 sin, x1 cos + x0 sin).
        Value elementCos = arith::MulFOp::create(b, l, element, cos);
        Value partnerSin = arith::MulFOp::create(b, l, partnerElement, sin);
        Value first = arith::SubFOp::create(b, l, elementCos, partnerSin);
        Value second = arith::AddFOp::create(b, l, elementCos, partnerSin);
        Value result =
            arith::SelectOp::create(b, l, pair.isFirst, first, second);
        return arith::SelectOp::create(b, l, rotated, result, element);
      });
}

std::string mlir::rill::getRotaryDecompositionFailure(RotaryOp op) {
  Type elementType = op.getInput().getType().getElementType();
  if (!isSupportedFloat(elementType))
    return "expected f16, bf16, f32 or f64 elements (got " +
           printType(elementType) + ")";
  if (Value cosTable = op.getCosTable()) {
    Type tableType =
        cast<RankedTensorType>(cosTable.getType()).getElementType();
    if (!isSupportedFloat(tableType))
      return "expected f16, bf16, f32 or f64 table elements (got " +
             printType(tableType) + ")";
  }
  return "";
}

FailureOr<Value> mlir::rill::decomposeRotary(RewriterBase &rewriter,
                                             RotaryOp op) {
  std::string failure = getRotaryDecompositionFailure(op);
  if (!failure.empty())
    return rewriter.notifyMatchFailure(op, failure);

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Value result = RotaryBuilder(rewriter, op).build();
  rewriter.replaceOp(op, result);
  return result;
}
