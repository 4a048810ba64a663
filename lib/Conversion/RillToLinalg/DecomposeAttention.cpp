//===- DecomposeAttention.cpp - rill.attention to linalg -------*- C++ -*-===//
//
// The reference lowering of rill.attention: a chain of linalg.generic ops on
// tensors that materializes the full score matrix, applies the mask
// attribute's predicate at stream positions, takes a max-subtracted softmax
// with optional sink logits and multiplies by the values. Every step is a
// separate op so that the IR reads like the op's definition.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToLinalg/RillToLinalg.h"

#include "DecomposeUtils.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::rill;

namespace {

/// Builds the ops of one attention decomposition. Scores, softmax and sums
/// use `computeType`: the element type, or f32 for narrower floats.
class AttentionBuilder {
public:
  AttentionBuilder(OpBuilder &builder, AttentionOp op)
      : builder(builder), op(op), loc(op.getLoc()),
        elementType(op.getQuery().getType().getElementType()),
        computeType(getComputeType(elementType)) {}

  Value build();

private:
  /// Returns `sizes` as an empty tensor of `type` filled with `value`.
  Value buildFilled(ArrayRef<OpFoldResult> sizes, Type type, double value);

  /// Returns dot(q, k) with the grouped-query head mapping.
  Value buildScores();
  /// Applies the scale, soft-capping, bias and the mask. Hidden scores
  /// become -inf.
  Value buildMaskedScores(Value scores);
  /// Returns the row maximum over the visible scores (-inf if none).
  Value buildRowMax(Value maskedScores);
  /// Returns the value subtracted before exp: max(row max, sink), or 0 for
  /// rows without a visible key.
  Value buildRowShift(Value rowMax);
  /// Returns exp(score - shift) for visible scores and 0 for hidden ones.
  Value buildWeights(Value maskedScores, Value rowShift);
  /// Returns the sum over keys of `weights`.
  Value buildRowSum(Value weights);
  /// Returns the weighted sum over keys of the values.
  Value buildWeightedValues(Value weights);
  /// Divides by the denominator, adds the sink term and zeroes empty rows.
  Value buildNormalized(Value weightedValues, Value rowMax, Value rowShift,
                        Value rowSum);

  /// Returns the key-value head that query head `head` reads.
  Value buildKeyValueHead(OpBuilder &b, Location l, Value head) {
    return arith::DivUIOp::create(b, l, head, groupSize);
  }

  OpBuilder &builder;
  AttentionOp op;
  Location loc;
  Type elementType;
  Type computeType;

  OpFoldResult batch, queryHeads, queryLength, keyLength, valueHeadSize;
  Value groupSize;
};

} // namespace

/// Returns the score scale as a `type` value: the `scale` attribute, else
/// 1 / sqrt(D), computed at run time when D is dynamic.
static Value buildScale(OpBuilder &builder, Location loc, AttentionOp op,
                        Type type) {
  int64_t headSize = op.getQuery().getType().getDimSize(3);
  if (op.getScale() || !ShapedType::isDynamic(headSize))
    return arith::ConstantOp::create(
        builder, loc, builder.getFloatAttr(type, op.getEffectiveScale()));

  Value headSizeIndex = tensor::DimOp::create(builder, loc, op.getQuery(), 3);
  Value headSizeInteger = arith::IndexCastUIOp::create(
      builder, loc, builder.getI64Type(), headSizeIndex);
  Value headSizeFloat =
      arith::UIToFPOp::create(builder, loc, type, headSizeInteger);
  return math::RsqrtOp::create(builder, loc, headSizeFloat);
}

Value AttentionBuilder::buildFilled(ArrayRef<OpFoldResult> sizes, Type type,
                                    double value) {
  Value empty = tensor::EmptyOp::create(builder, loc, sizes, type);
  Value constant = arith::ConstantOp::create(builder, loc,
                                             builder.getFloatAttr(type, value));
  return linalg::FillOp::create(builder, loc, ValueRange{constant},
                                ValueRange{empty})
      .getResult(0);
}

Value AttentionBuilder::buildScores() {
  // scores[b, h, i, j] = sum_d query[b, h, i, d] * key[b, g, j, d]
  // with g = h / (Hq / Hkv). The key is read with tensor.extract because
  // the head mapping is not an affine function of the loop indices.
  Value key = op.getKey();
  Value init = buildFilled({batch, queryHeads, queryLength, keyLength},
                           computeType, 0.0);

  MLIRContext *context = builder.getContext();
  AffineExpr b, h, i, j, d;
  bindDims(context, b, h, i, j, d);
  SmallVector<AffineMap> maps = {AffineMap::get(5, 0, {b, h, i, d}, context),
                                 AffineMap::get(5, 0, {b, h, i, j}, context)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);

  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{op.getQuery()},
             ValueRange{init}, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               Value batchIndex = linalg::IndexOp::create(nested, l, 0);
               Value head = linalg::IndexOp::create(nested, l, 1);
               Value keyRow = linalg::IndexOp::create(nested, l, 3);
               Value channel = linalg::IndexOp::create(nested, l, 4);
               Value keyElement = tensor::ExtractOp::create(
                   nested, l, key,
                   ValueRange{batchIndex, buildKeyValueHead(nested, l, head),
                              keyRow, channel});
               Value product = arith::MulFOp::create(
                   nested, l, convertFloat(nested, l, args[0], computeType),
                   convertFloat(nested, l, keyElement, computeType));
               Value sum = arith::AddFOp::create(nested, l, args[1], product);
               linalg::YieldOp::create(nested, l, sum);
             })
      .getResult(0);
}

Value AttentionBuilder::buildMaskedScores(Value scores) {
  // Scaling, soft-capping and bias come before the mask. A key whose biased
  // score is -inf (an additive mask) counts as hidden, so rows of such keys
  // also produce zeros instead of NaN.
  Value scale = buildScale(builder, loc, op, computeType);
  std::optional<APFloat> softcap = op.getSoftcap();
  Value bias = op.getBias();
  Value biasBatchIsOne, biasHeadsIsOne;
  if (bias) {
    biasBatchIsOne = buildDimIsOne(builder, loc, bias, 0);
    biasHeadsIsOne = buildDimIsOne(builder, loc, bias, 1);
  }
  Value queryStart = op.getQPos();
  Value keyStart = op.getKPos();
  MaskAttrInterface mask = op.getMask();

  return buildElementwise(
      builder, loc, scores, computeType,
      [&](OpBuilder &nested, Location l, Value score) -> Value {
        Value batchIndex = linalg::IndexOp::create(nested, l, 0);
        Value head = linalg::IndexOp::create(nested, l, 1);
        Value queryRow = linalg::IndexOp::create(nested, l, 2);
        Value keyRow = linalg::IndexOp::create(nested, l, 3);

        score = arith::MulFOp::create(nested, l, score, scale);
        if (softcap) {
          Value cap = arith::ConstantOp::create(
              nested, l,
              nested.getFloatAttr(computeType, softcap->convertToDouble()));
          Value divided = arith::DivFOp::create(nested, l, score, cap);
          Value tanh = math::TanhOp::create(nested, l, divided);
          score = arith::MulFOp::create(nested, l, cap, tanh);
        }

        if (bias) {
          Value biasElement = tensor::ExtractOp::create(
              nested, l, bias,
              ValueRange{
                  buildBroadcastIndex(nested, l, batchIndex, biasBatchIsOne),
                  buildBroadcastIndex(nested, l, head, biasHeadsIsOne),
                  queryRow, keyRow});
          score = arith::AddFOp::create(
              nested, l, score,
              convertFloat(nested, l, biasElement, computeType));
        }

        Value queryPosition =
            arith::AddIOp::create(nested, l, queryStart, queryRow);
        Value keyPosition = arith::AddIOp::create(nested, l, keyStart, keyRow);
        Value visible =
            mask.buildVisible(nested, l, queryPosition, keyPosition, head);
        Value negativeInfinity = buildNegativeInfinity(nested, l, computeType);
        Value finite = arith::CmpFOp::create(
            nested, l, arith::CmpFPredicate::OGT, score, negativeInfinity);
        visible = arith::AndIOp::create(nested, l, visible, finite);
        return arith::SelectOp::create(nested, l, visible, score,
                                       negativeInfinity);
      });
}

Value AttentionBuilder::buildRowMax(Value maskedScores) {
  Value init = buildFilled({batch, queryHeads, queryLength}, computeType,
                           -std::numeric_limits<double>::infinity());
  return buildRowReduction(
      builder, loc, maskedScores, init,
      [](OpBuilder &nested, Location l, Value element, Value accumulator) {
        return arith::MaximumFOp::create(nested, l, element, accumulator)
            .getResult();
      });
}

Value AttentionBuilder::buildRowShift(Value rowMax) {
  // The sink logit takes part in the maximum (it is one more term of the
  // denominator) but never in the numerator.
  Value sinkLogits = op.getSinkLogits();
  return buildElementwise(
      builder, loc, rowMax, computeType,
      [&](OpBuilder &nested, Location l, Value max) -> Value {
        Value negativeInfinity = buildNegativeInfinity(nested, l, computeType);
        Value isEmpty = arith::CmpFOp::create(
            nested, l, arith::CmpFPredicate::OEQ, max, negativeInfinity);
        Value shift = max;
        if (sinkLogits) {
          Value head = linalg::IndexOp::create(nested, l, 1);
          Value sink = tensor::ExtractOp::create(nested, l, sinkLogits, head);
          shift = arith::MaximumFOp::create(
              nested, l, max, convertFloat(nested, l, sink, computeType));
        }
        Value zero = arith::ConstantOp::create(
            nested, l, nested.getFloatAttr(computeType, 0.0));
        return arith::SelectOp::create(nested, l, isEmpty, zero, shift);
      });
}

Value AttentionBuilder::buildWeights(Value maskedScores, Value rowShift) {
  MLIRContext *context = builder.getContext();
  AffineExpr b, h, i, j;
  bindDims(context, b, h, i, j);
  SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {b, h, i, j}, context),
                                 AffineMap::get(4, 0, {b, h, i}, context),
                                 AffineMap::get(4, 0, {b, h, i, j}, context)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(
      builder, loc, tensor::getMixedSizes(builder, loc, maskedScores),
      computeType);

  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{maskedScores, rowShift},
             ValueRange{init}, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               Value negativeInfinity =
                   buildNegativeInfinity(nested, l, computeType);
               Value visible =
                   arith::CmpFOp::create(nested, l, arith::CmpFPredicate::OGT,
                                         args[0], negativeInfinity);
               Value shifted =
                   arith::SubFOp::create(nested, l, args[0], args[1]);
               Value exp = math::ExpOp::create(nested, l, shifted);
               Value zero = arith::ConstantOp::create(
                   nested, l, nested.getFloatAttr(computeType, 0.0));
               Value weight =
                   arith::SelectOp::create(nested, l, visible, exp, zero);
               linalg::YieldOp::create(nested, l, weight);
             })
      .getResult(0);
}

Value AttentionBuilder::buildRowSum(Value weights) {
  Value init = buildFilled({batch, queryHeads, queryLength}, computeType, 0.0);
  return buildRowReduction(
      builder, loc, weights, init,
      [](OpBuilder &nested, Location l, Value element, Value accumulator) {
        return arith::AddFOp::create(nested, l, element, accumulator)
            .getResult();
      });
}

Value AttentionBuilder::buildWeightedValues(Value weights) {
  // out[b, h, i, e] = sum_j weights[b, h, i, j] * value[b, g, j, e] with
  // g = h / (Hq / Hkv), again read through tensor.extract.
  Value value = op.getValue();
  Value init = buildFilled({batch, queryHeads, queryLength, valueHeadSize},
                           computeType, 0.0);

  MLIRContext *context = builder.getContext();
  AffineExpr b, h, i, e, j;
  bindDims(context, b, h, i, e, j);
  SmallVector<AffineMap> maps = {AffineMap::get(5, 0, {b, h, i, j}, context),
                                 AffineMap::get(5, 0, {b, h, i, e}, context)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);

  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{weights},
             ValueRange{init}, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               Value batchIndex = linalg::IndexOp::create(nested, l, 0);
               Value head = linalg::IndexOp::create(nested, l, 1);
               Value channel = linalg::IndexOp::create(nested, l, 3);
               Value keyRow = linalg::IndexOp::create(nested, l, 4);
               Value valueElement = tensor::ExtractOp::create(
                   nested, l, value,
                   ValueRange{batchIndex, buildKeyValueHead(nested, l, head),
                              keyRow, channel});
               Value product = arith::MulFOp::create(
                   nested, l, args[0],
                   convertFloat(nested, l, valueElement, computeType));
               Value sum = arith::AddFOp::create(nested, l, args[1], product);
               linalg::YieldOp::create(nested, l, sum);
             })
      .getResult(0);
}

Value AttentionBuilder::buildNormalized(Value weightedValues, Value rowMax,
                                        Value rowShift, Value rowSum) {
  Value sinkLogits = op.getSinkLogits();
  MLIRContext *context = builder.getContext();
  AffineExpr b, h, i, e;
  bindDims(context, b, h, i, e);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(4, context);
  AffineMap perRow = AffineMap::get(4, 0, {b, h, i}, context);
  SmallVector<AffineMap> maps = {identity, perRow, perRow, perRow, identity};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(
      builder, loc, tensor::getMixedSizes(builder, loc, weightedValues),
      elementType);

  return linalg::GenericOp::create(
             builder, loc, init.getType(),
             ValueRange{weightedValues, rowMax, rowShift, rowSum},
             ValueRange{init}, maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               Value numerator = args[0], max = args[1], shift = args[2];
               Value denominator = args[3];
               if (sinkLogits) {
                 Value head = linalg::IndexOp::create(nested, l, 1);
                 Value sink =
                     tensor::ExtractOp::create(nested, l, sinkLogits, head);
                 Value shifted = arith::SubFOp::create(
                     nested, l, convertFloat(nested, l, sink, computeType),
                     shift);
                 Value sinkTerm = math::ExpOp::create(nested, l, shifted);
                 denominator =
                     arith::AddFOp::create(nested, l, denominator, sinkTerm);
               }
               Value quotient =
                   arith::DivFOp::create(nested, l, numerator, denominator);

               // A row without a visible key has a zero numerator and,
               // without sink logits, a zero denominator: return 0, not NaN.
               Value negativeInfinity =
                   buildNegativeInfinity(nested, l, computeType);
               Value isEmpty = arith::CmpFOp::create(
                   nested, l, arith::CmpFPredicate::OEQ, max, negativeInfinity);
               Value zero = arith::ConstantOp::create(
                   nested, l, nested.getFloatAttr(computeType, 0.0));
               Value result =
                   arith::SelectOp::create(nested, l, isEmpty, zero, quotient);
               linalg::YieldOp::create(
                   nested, l, convertFloat(nested, l, result, elementType));
             })
      .getResult(0);
}

Value AttentionBuilder::build() {
  Value query = op.getQuery();
  Value key = op.getKey();
  batch = tensor::getMixedSize(builder, loc, query, 0);
  queryHeads = tensor::getMixedSize(builder, loc, query, 1);
  queryLength = tensor::getMixedSize(builder, loc, query, 2);
  keyLength = tensor::getMixedSize(builder, loc, key, 2);
  valueHeadSize = tensor::getMixedSize(builder, loc, op.getValue(), 3);
  Value queryHeadsValue =
      getValueOrCreateConstantIndexOp(builder, loc, queryHeads);
  Value keyHeadsValue = getValueOrCreateConstantIndexOp(
      builder, loc, tensor::getMixedSize(builder, loc, key, 1));
  groupSize =
      arith::DivUIOp::create(builder, loc, queryHeadsValue, keyHeadsValue);

  Value scores = buildScores();
  Value maskedScores = buildMaskedScores(scores);
  Value rowMax = buildRowMax(maskedScores);
  Value rowShift = buildRowShift(rowMax);
  Value weights = buildWeights(maskedScores, rowShift);
  Value rowSum = buildRowSum(weights);
  Value weightedValues = buildWeightedValues(weights);
  return buildNormalized(weightedValues, rowMax, rowShift, rowSum);
}

std::string mlir::rill::getAttentionDecompositionFailure(AttentionOp op) {
  Type elementType = op.getQuery().getType().getElementType();
  if (!isSupportedFloat(elementType))
    return "expected f16, bf16, f32 or f64 elements (got " +
           printType(elementType) + ")";

  int64_t queryHeads = op.getQuery().getType().getDimSize(1);
  if (op.getMask().getNumHeads() && ShapedType::isDynamic(queryHeads))
    return "expected a static number of query heads with a per-head mask";
  return "";
}

FailureOr<Value> mlir::rill::decomposeAttention(RewriterBase &rewriter,
                                                AttentionOp op) {
  std::string failure = getAttentionDecompositionFailure(op);
  if (!failure.empty())
    return rewriter.notifyMatchFailure(op, failure);

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Value result = AttentionBuilder(rewriter, op).build();
  // The result takes the operands' dimensions, which may be less static
  // than the op's result type (a cache attention's joined keys).
  if (result.getType() != op.getType())
    result = tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), result);
  rewriter.replaceOp(op, result);
  return result;
}
