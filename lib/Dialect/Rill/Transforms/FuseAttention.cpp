//===- FuseAttention.cpp - Fuse decomposed attention into rill ops -------===//
//
// Implements fuseAttention and the rill-fuse-attention pass. The matcher
// starts at the batched contraction of softmax weights with values. From
// there it walks back through the softmax (as the ONNX importer spells it,
// or linalg.softmax), the masks and scale on the scores, and the
// contraction of queries with transposed keys. Mask terms that compare query and key
// positions become the mask attribute, the rest becomes the bias operand.
//
//===----------------------------------------------------------------------===//

#include "FuseMaskAnalysis.h"

#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillOps.h"
#include "rill/Dialect/Rill/Transforms/Passes.h"
#include "rill/Dialect/Rill/Transforms/Transforms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/DebugLog.h"

#include <cmath>

#define DEBUG_TYPE "rill-fuse-attention"

namespace mlir::rill {
#define GEN_PASS_DEF_RILLFUSEATTENTIONPASS
#include "rill/Dialect/Rill/Transforms/Passes.h.inc"
} // namespace mlir::rill

using namespace mlir;
using namespace mlir::rill;
using namespace mlir::rill::fusion;

/// Scores at or below this value hide a key, as the exporters' masks use
/// -inf or the lowest finite float.
static constexpr double kHiddenScoreThreshold = -1.0e30;

/// Deepest chain of elementwise ops followed from the softmax input.
static constexpr unsigned kMaxScoreChain = 16;

namespace {

/// A tensor that the scores read at `index`.
struct MaskTerm {
  Value tensor;
  IndexExprs index;
  /// For boolean terms: true hides the key instead of showing it.
  bool inverted = false;
  /// Bounds on `k - q` already derived for this term, for additive masks
  /// whose condition is computed inside their own generic (Trilu).
  std::optional<PositionBounds> bounds;
};

/// What the scores chain between the softmax and the query-key contraction
/// contains.
struct ScoreChain {
  linalg::GenericOp queryKey;
  double scale = 1.0;
  /// Whether a scale step was seen on the way down from the softmax; a mask
  /// below it would be scaled too.
  bool sawScale = false;
  /// Float tensors added to the scores.
  SmallVector<MaskTerm> additive;
  /// Boolean tensors; a key is visible only where all of them are true.
  SmallVector<MaskTerm> conditions;
  /// The score written where a condition is false.
  double hiddenScore = -INFINITY;
};

} // namespace

//===----------------------------------------------------------------------===//
// Small matchers on linalg.generic bodies
//===----------------------------------------------------------------------===//

/// Returns the op that computes the single yielded value of `generic`, or
/// null when the yielded value is not computed inside the body.
static Operation *getYieldedOp(linalg::GenericOp generic) {
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  if (yield.getNumOperands() != 1)
    return nullptr;
  Operation *op = yield.getOperand(0).getDefiningOp();
  if (!op || op->getBlock() != generic.getBody())
    return nullptr;
  return op;
}

/// Returns the input operand that the body argument `value` stands for, or
/// null when `value` is not an input argument of `generic`.
static OpOperand *getInputOperand(linalg::GenericOp generic, Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument || argument.getOwner() != generic.getBody() ||
      argument.getArgNumber() >= generic.getNumDpsInputs())
    return nullptr;
  return generic.getDpsInputOperand(argument.getArgNumber());
}

/// Returns true for a generic with one result, only parallel loops and an
/// identity map on the result.
static bool isElementwise(linalg::GenericOp generic) {
  return generic && generic->getNumResults() == 1 &&
         generic.getNumLoops() == generic.getNumParallelLoops() &&
         generic.getIndexingMapsArray().back().isIdentity();
}

/// Returns the float value of a scalar constant used in a body: an
/// arith.constant, or an input argument whose tensor is a splat constant.
static std::optional<double> getScalarConstant(linalg::GenericOp generic,
                                               Value value) {
  FloatAttr scalar;
  if (matchPattern(value, m_Constant(&scalar)))
    return scalar.getValueAsDouble();
  OpOperand *input = getInputOperand(generic, value);
  DenseFPElementsAttr splat;
  if (input && matchPattern(input->get(), m_Constant(&splat)) &&
      splat.isSplat())
    return splat.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

/// Returns the input of an elementwise generic that only applies `OpTy` to
/// one input with an identity map, or null.
template <typename OpTy> static Value matchUnaryElementwise(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(generic) || generic.getNumDpsInputs() != 1)
    return Value();
  auto op = dyn_cast_or_null<OpTy>(getYieldedOp(generic));
  if (!op)
    return Value();
  OpOperand *input = getInputOperand(generic, op->getOperand(0));
  if (!input || !generic.getMatchingIndexingMap(input).isIdentity())
    return Value();
  return input->get();
}

/// Returns true if `value` is filled with a constant that satisfies
/// `predicate`.
static bool isFilledWith(Value value, function_ref<bool(double)> predicate) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  FloatAttr scalar;
  return matchPattern(fill.getInputs()[0], m_Constant(&scalar)) &&
         predicate(scalar.getValueAsDouble());
}

/// Returns true if `generic` is `out[b, h, i, n] += lhs[b, h, i, k] *
/// rhs[b, h, k, n]` (or rhs[b, h, n, k] when `rhsTransposed`) on a zero
/// init.
static bool isBatchContraction(linalg::GenericOp generic, bool rhsTransposed) {
  if (!generic || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1 || generic.getNumLoops() != 5 ||
      generic.getNumReductionLoops() != 1 ||
      generic.getIteratorTypesArray()[4] != utils::IteratorType::reduction)
    return false;

  MLIRContext *context = generic.getContext();
  AffineExpr b, h, i, n, k;
  bindDims(context, b, h, i, n, k);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(5, 0, results, context);
  };
  SmallVector<AffineMap> expected = {
      map({b, h, i, k}), rhsTransposed ? map({b, h, n, k}) : map({b, h, k, n}),
      map({b, h, i, n})};
  if (generic.getIndexingMapsArray() != expected)
    return false;

  auto add = dyn_cast_or_null<arith::AddFOp>(getYieldedOp(generic));
  if (!add)
    return false;
  Value accumulator = generic.getBody()->getArgument(2);
  Value product = add.getLhs() == accumulator ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || (add.getLhs() != accumulator && add.getRhs() != accumulator))
    return false;
  Value lhs = generic.getBody()->getArgument(0);
  Value rhs = generic.getBody()->getArgument(1);
  bool operandsMatch = (mul.getLhs() == lhs && mul.getRhs() == rhs) ||
                       (mul.getLhs() == rhs && mul.getRhs() == lhs);
  return operandsMatch &&
         isFilledWith(generic.getDpsInits()[0],
                      [](double value) { return value == 0.0; });
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Returns the input of a row reduction over the last axis of a rank-4
/// tensor, read back by an elementwise op through `operand`: either the
/// reduction result itself or its expand_shape with a trailing unit
/// dimension.
template <typename CombinerOpTy>
static Value matchRowReduction(linalg::GenericOp user, OpOperand *operand,
                               function_ref<bool(double)> isInit) {
  MLIRContext *context = user.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(context, d0, d1, d2, d3);
  AffineMap map = user.getMatchingIndexingMap(operand);
  Value reduced = operand->get();
  if (map == AffineMap::get(4, 0,
                            {d0, d1, d2, getAffineConstantExpr(0, context)},
                            context)) {
    auto expand = reduced.getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || expand.getSrcType().getRank() != 3)
      return Value();
    reduced = expand.getSrc();
  } else if (map != AffineMap::get(4, 0, {d0, d1, d2}, context)) {
    return Value();
  }

  auto reduction = reduced.getDefiningOp<linalg::GenericOp>();
  if (!reduction || reduction.getNumDpsInputs() != 1 ||
      reduction.getNumLoops() != 4 || reduction.getNumReductionLoops() != 1 ||
      reduction.getIteratorTypesArray()[3] != utils::IteratorType::reduction)
    return Value();
  SmallVector<AffineMap> maps = reduction.getIndexingMapsArray();
  if (!maps[0].isIdentity() ||
      maps[1] != AffineMap::get(4, 0, {d0, d1, d2}, context))
    return Value();
  auto combiner = dyn_cast_or_null<CombinerOpTy>(getYieldedOp(reduction));
  if (!combiner || !isFilledWith(reduction.getDpsInits()[0], isInit))
    return Value();
  Block *body = reduction.getBody();
  bool operandsMatch =
      llvm::is_contained(combiner->getOperands(), body->getArgument(0)) &&
      llvm::is_contained(combiner->getOperands(), body->getArgument(1));
  return operandsMatch ? reduction.getDpsInputs()[0] : Value();
}

/// Returns the input `x` of `p = exp(x - max(x)) / sum(exp(x - max(x)))`
/// over the last axis, optionally computed in a wider type between
/// extf and truncf, or of an equivalent linalg.softmax.
static FailureOr<Value> matchSoftmax(RewriterBase &rewriter, Operation *anchor,
                                     Value weights) {
  bool narrowed = false;
  if (Value wide = matchUnaryElementwise<arith::TruncFOp>(weights)) {
    weights = wide;
    narrowed = true;
  }

  Value input;
  if (auto softmax = weights.getDefiningOp<linalg::SoftmaxOp>()) {
    if (softmax.getDimension() !=
        static_cast<uint64_t>(softmax.getInputOperandType().getRank() - 1))
      return rewriter.notifyMatchFailure(
          anchor, "expected the softmax axis to be the last axis");
    input = softmax.getInput();
  } else {
    auto divide = weights.getDefiningOp<linalg::GenericOp>();
    auto div = isElementwise(divide)
                   ? dyn_cast_or_null<arith::DivFOp>(getYieldedOp(divide))
                   : nullptr;
    if (!div)
      return rewriter.notifyMatchFailure(
          anchor, "expected softmax weights (a division by a row sum)");
    OpOperand *numerator = getInputOperand(divide, div.getLhs());
    OpOperand *denominator = getInputOperand(divide, div.getRhs());
    if (!numerator || !denominator ||
        !divide.getMatchingIndexingMap(numerator).isIdentity())
      return rewriter.notifyMatchFailure(
          anchor, "expected softmax weights (a division by a row sum)");
    Value exponentials = numerator->get();
    Value summed = matchRowReduction<arith::AddFOp>(
        divide, denominator, [](double value) { return value == 0.0; });
    if (summed != exponentials)
      return rewriter.notifyMatchFailure(
          anchor, "expected the softmax axis to be the last axis");

    Value shifted = matchUnaryElementwise<math::ExpOp>(exponentials);
    auto subtract = shifted ? shifted.getDefiningOp<linalg::GenericOp>()
                            : linalg::GenericOp();
    auto sub = isElementwise(subtract)
                   ? dyn_cast_or_null<arith::SubFOp>(getYieldedOp(subtract))
                   : nullptr;
    OpOperand *scores = sub ? getInputOperand(subtract, sub.getLhs()) : nullptr;
    OpOperand *rowMax = sub ? getInputOperand(subtract, sub.getRhs()) : nullptr;
    if (!scores || !rowMax ||
        !subtract.getMatchingIndexingMap(scores).isIdentity())
      return rewriter.notifyMatchFailure(
          anchor, "expected exp(x - max(x)) in the softmax");
    Value maximized = matchRowReduction<arith::MaximumFOp>(
        subtract, rowMax,
        [](double value) { return value <= kHiddenScoreThreshold; });
    if (!maximized)
      maximized = matchRowReduction<arith::MaxNumFOp>(
          subtract, rowMax,
          [](double value) { return value <= kHiddenScoreThreshold; });
    if (maximized != scores->get())
      return rewriter.notifyMatchFailure(
          anchor, "expected the softmax axis to be the last axis");
    input = scores->get();
  }

  if (narrowed) {
    Value narrow = matchUnaryElementwise<arith::ExtFOp>(input);
    if (!narrow)
      return rewriter.notifyMatchFailure(
          anchor, "expected the softmax input to be widened with extf");
    input = narrow;
  }
  return input;
}

//===----------------------------------------------------------------------===//
// Scores: scale, masks and the query-key contraction
//===----------------------------------------------------------------------===//

/// Appends the leaves of the conjunction `value` (read at `index`) to
/// `terms`, splitting elementwise generics that only compute `a and b`.
static void appendConjunction(Value value, const IndexExprs &index,
                              SmallVectorImpl<MaskTerm> &terms) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  auto andOp = isElementwise(generic)
                   ? dyn_cast_or_null<arith::AndIOp>(getYieldedOp(generic))
                   : nullptr;
  OpOperand *lhs = andOp ? getInputOperand(generic, andOp.getLhs()) : nullptr;
  OpOperand *rhs = andOp ? getInputOperand(generic, andOp.getRhs()) : nullptr;
  if (!lhs || !rhs) {
    terms.push_back(
        {value, index, /*inverted=*/false, /*bounds=*/std::nullopt});
    return;
  }
  for (OpOperand *operand : {lhs, rhs}) {
    FailureOr<IndexExprs> operandIndex =
        composeIndex(generic.getMatchingIndexingMap(operand), index);
    if (failed(operandIndex)) {
      terms.push_back(
          {value, index, /*inverted=*/false, /*bounds=*/std::nullopt});
      return;
    }
    appendConjunction(operand->get(), *operandIndex, terms);
  }
}

/// Records the additive mask term `value` read at `index`. A term that is
/// itself `select(c, 0, hidden)` becomes the condition `c`.
static void appendAdditiveTerm(Value value, const IndexExprs &index,
                               ScoreChain &chain) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  auto select = isElementwise(generic)
                    ? dyn_cast_or_null<arith::SelectOp>(getYieldedOp(generic))
                    : nullptr;
  if (select && !getInputOperand(generic, select.getCondition())) {
    // Trilu of a constant hidden tensor: the condition compares loop
    // indices inside the body, and the key is hidden where it is true (or
    // where it is false when the hidden value is the false operand).
    std::optional<double> onTrue =
        getScalarConstant(generic, select.getTrueValue());
    std::optional<double> onFalse =
        getScalarConstant(generic, select.getFalseValue());
    bool hiddenOnTrue =
        onTrue && *onTrue <= kHiddenScoreThreshold && onFalse == 0.0;
    bool hiddenOnFalse =
        onFalse && *onFalse <= kHiddenScoreThreshold && onTrue == 0.0;
    FailureOr<PositionBounds> bounds = failure();
    if (hiddenOnTrue || hiddenOnFalse)
      bounds = analyzePositionCondition(select.getCondition(), generic, index);
    if (succeeded(bounds) && hiddenOnTrue)
      bounds = negateBounds(*bounds);
    if (succeeded(bounds)) {
      chain.conditions.push_back({value, index, /*inverted=*/false, *bounds});
      chain.hiddenScore =
          std::max(chain.hiddenScore, hiddenOnTrue ? *onTrue : *onFalse);
      return;
    }
  }
  if (select) {
    OpOperand *condition = getInputOperand(generic, select.getCondition());
    std::optional<double> shown =
        getScalarConstant(generic, select.getTrueValue());
    std::optional<double> hidden =
        getScalarConstant(generic, select.getFalseValue());
    FailureOr<IndexExprs> conditionIndex =
        condition
            ? composeIndex(generic.getMatchingIndexingMap(condition), index)
            : FailureOr<IndexExprs>(failure());
    if (succeeded(conditionIndex) && shown == 0.0 && hidden &&
        *hidden <= kHiddenScoreThreshold) {
      appendConjunction(condition->get(), *conditionIndex, chain.conditions);
      chain.hiddenScore = std::max(chain.hiddenScore, *hidden);
      return;
    }
  }
  chain.additive.push_back(
      {value, index, /*inverted=*/false, /*bounds=*/std::nullopt});
}

static LogicalResult matchScores(RewriterBase &rewriter, Operation *anchor,
                                 Value scores, ScoreChain &chain,
                                 unsigned depth);

/// Matches one elementwise step of the scores chain in `generic`.
static LogicalResult matchScoreStep(RewriterBase &rewriter, Operation *anchor,
                                    linalg::GenericOp generic,
                                    ScoreChain &chain, unsigned depth) {
  Operation *op = getYieldedOp(generic);
  IndexExprs scoreIndex = getScoreIndex();
  auto scoresOperand = [&](Value value) -> OpOperand * {
    OpOperand *operand = getInputOperand(generic, value);
    if (!operand || !generic.getMatchingIndexingMap(operand).isIdentity() ||
        operand->get().getType() != generic->getResult(0).getType())
      return nullptr;
    return operand;
  };

  // Scale: scores * c, c * scores or scores / c.
  if (isa_and_nonnull<arith::MulFOp, arith::DivFOp>(op)) {
    for (unsigned side = 0; side < 2; ++side) {
      if (isa<arith::DivFOp>(op) && side == 1)
        break;
      OpOperand *operand = scoresOperand(op->getOperand(side));
      std::optional<double> factor =
          getScalarConstant(generic, op->getOperand(1 - side));
      if (!operand || !factor || *factor == 0.0)
        continue;
      chain.sawScale = true;
      chain.scale *= isa<arith::DivFOp>(op) ? 1.0 / *factor : *factor;
      return matchScores(rewriter, anchor, operand->get(), chain, depth + 1);
    }
    return rewriter.notifyMatchFailure(
        anchor, "expected the scores to be scaled by a constant scalar");
  }

  if (chain.sawScale && isa_and_nonnull<arith::AddFOp, arith::SelectOp>(op))
    return rewriter.notifyMatchFailure(
        anchor, "expected the scale to be applied before the mask");

  // Additive mask: scores + mask, in either order.
  if (auto addOp = dyn_cast_or_null<arith::AddFOp>(op)) {
    for (unsigned side = 0; side < 2; ++side) {
      OpOperand *operand = scoresOperand(addOp->getOperand(side));
      OpOperand *mask = getInputOperand(generic, addOp->getOperand(1 - side));
      if (!operand || !mask)
        continue;
      FailureOr<IndexExprs> maskIndex =
          composeIndex(generic.getMatchingIndexingMap(mask), scoreIndex);
      if (failed(maskIndex))
        continue;
      ScoreChain attempt = chain;
      appendAdditiveTerm(mask->get(), *maskIndex, attempt);
      if (succeeded(matchScores(rewriter, anchor, operand->get(), attempt,
                                depth + 1))) {
        chain = std::move(attempt);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(
        anchor, "expected an additive mask on the attention scores");
  }

  // Select mask: select(c, scores, hidden) or select(c, hidden, scores).
  if (auto select = dyn_cast_or_null<arith::SelectOp>(op)) {
    OpOperand *condition = getInputOperand(generic, select.getCondition());
    for (unsigned side = 0; side < 2; ++side) {
      Value scoresValue =
          side == 0 ? select.getTrueValue() : select.getFalseValue();
      Value hiddenValue =
          side == 0 ? select.getFalseValue() : select.getTrueValue();
      OpOperand *operand = scoresOperand(scoresValue);
      std::optional<double> hidden = getScalarConstant(generic, hiddenValue);
      if (!condition || !operand || !hidden || *hidden > kHiddenScoreThreshold)
        continue;
      FailureOr<IndexExprs> conditionIndex =
          composeIndex(generic.getMatchingIndexingMap(condition), scoreIndex);
      if (failed(conditionIndex))
        continue;
      chain.hiddenScore = std::max(chain.hiddenScore, *hidden);
      if (side == 0)
        appendConjunction(condition->get(), *conditionIndex, chain.conditions);
      else
        chain.conditions.push_back({condition->get(), *conditionIndex,
                                    /*inverted=*/true,
                                    /*bounds=*/std::nullopt});
      return matchScores(rewriter, anchor, operand->get(), chain, depth + 1);
    }
    return rewriter.notifyMatchFailure(
        anchor, "expected a select mask that writes -inf or a large "
                "negative score");
  }
  return rewriter.notifyMatchFailure(
      anchor, "expected a scale, an additive mask or a select mask between "
              "the query-key contraction and the softmax");
}

/// Matches the chain from the softmax input `scores` down to the
/// query-key contraction.
static LogicalResult matchScores(RewriterBase &rewriter, Operation *anchor,
                                 Value scores, ScoreChain &chain,
                                 unsigned depth) {
  if (depth > kMaxScoreChain)
    return rewriter.notifyMatchFailure(
        anchor, "expected at most 16 ops between the query-key contraction "
                "and the softmax");
  auto generic = scores.getDefiningOp<linalg::GenericOp>();
  if (isBatchContraction(generic, /*rhsTransposed=*/false) ||
      isBatchContraction(generic, /*rhsTransposed=*/true)) {
    chain.queryKey = generic;
    return success();
  }
  if (!isElementwise(generic) ||
      cast<ShapedType>(scores.getType()).getRank() != kScoreRank)
    return rewriter.notifyMatchFailure(
        anchor, "expected the softmax input to come from a query-key "
                "contraction");
  return matchScoreStep(rewriter, anchor, generic, chain, depth);
}

//===----------------------------------------------------------------------===//
// Queries, keys and values
//===----------------------------------------------------------------------===//

/// Strips a multiplication by a constant scalar from queries or keys and
/// folds the factor into `scale`.
static Value stripConstantFactor(Value value, double &scale) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  auto mul = isElementwise(generic)
                 ? dyn_cast_or_null<arith::MulFOp>(getYieldedOp(generic))
                 : nullptr;
  if (!mul)
    return value;
  for (unsigned side = 0; side < 2; ++side) {
    OpOperand *operand = getInputOperand(generic, mul->getOperand(side));
    std::optional<double> factor =
        getScalarConstant(generic, mul->getOperand(1 - side));
    if (operand && factor &&
        generic.getMatchingIndexingMap(operand).isIdentity() &&
        operand->get().getType() == value.getType()) {
      scale *= *factor;
      return operand->get();
    }
  }
  return value;
}

/// Returns the source of a chain of identity copies of `value` (an Expand
/// to an all-ones shape imports as one), or `value` itself.
static Value skipIdentityCopies(Value value) {
  while (auto copy = value.getDefiningOp<linalg::GenericOp>()) {
    if (!isElementwise(copy) || copy.getNumDpsInputs() != 1 ||
        !copy.getIndexingMapsArray()[0].isIdentity() ||
        copy.getDpsInputs()[0].getType() != value.getType())
      break;
    auto yield = cast<linalg::YieldOp>(copy.getBody()->getTerminator());
    if (yield.getOperand(0) != copy.getBody()->getArgument(0))
      break;
    value = copy.getDpsInputs()[0];
  }
  return value;
}

namespace {

/// A Tile: `value[i] = source[i mod size(source)]`, which repeats the
/// source `repeats[d]` times along dimension `d`.
struct TileMatch {
  Value source;
  SmallVector<int64_t> repeats;
};

} // namespace

/// Matches a Tile as the importer lowers it: a generic without inputs that
/// yields `tensor.extract source[index(0) mod s0, ...]`. A dimension whose
/// sizes are dynamic counts as not repeated only when the output size is
/// the divisor `s_d` itself.
static std::optional<TileMatch> matchTile(Value value) {
  auto tile = value.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(tile) || tile.getNumDpsInputs() != 0)
    return std::nullopt;
  auto extract = dyn_cast_or_null<tensor::ExtractOp>(getYieldedOp(tile));
  if (!extract || extract.getTensor().getParentBlock() == tile.getBody())
    return std::nullopt;
  Value source = extract.getTensor();
  auto sourceType = cast<RankedTensorType>(source.getType());
  auto resultType = cast<RankedTensorType>(value.getType());
  if (sourceType.getRank() != resultType.getRank() ||
      static_cast<int64_t>(extract.getIndices().size()) != sourceType.getRank())
    return std::nullopt;
  auto empty = tile.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();

  TileMatch match{source, {}};
  for (auto [dim, index] : llvm::enumerate(extract.getIndices())) {
    auto remainder = index.getDefiningOp<arith::RemUIOp>();
    auto loop = remainder ? remainder.getLhs().getDefiningOp<linalg::IndexOp>()
                          : linalg::IndexOp();
    if (!loop || loop.getDim() != dim)
      return std::nullopt;
    int64_t sourceSize = sourceType.getDimSize(dim);
    int64_t resultSize = resultType.getDimSize(dim);
    if (!ShapedType::isDynamic(sourceSize) &&
        !ShapedType::isDynamic(resultSize)) {
      if (getConstantIntValue(remainder.getRhs()) != sourceSize ||
          resultSize % sourceSize != 0)
        return std::nullopt;
      match.repeats.push_back(resultSize / sourceSize);
      continue;
    }
    if (!empty || !ShapedType::isDynamic(resultSize) ||
        empty.getDynamicSize(dim) != remainder.getRhs())
      return std::nullopt;
    match.repeats.push_back(1);
  }
  return match;
}

/// Returns the un-repeated `[B, Hkv, T, D]` tensor behind a grouped-query
/// repetition of `value` `[B, Hkv * n, T, D]`, or `value` itself. Two forms
/// are recognised:
///
/// - `reshape(r(expand_shape(x)))` with `r` a broadcast (Expand) or a Tile
///   from `[B, Hkv, 1, T, D]` to `[B, Hkv, n, T, D]`, which is what torch
///   exports for `repeat_kv` and for `x[:, :, None].repeat(1, 1, n, 1, 1)`;
/// - a Tile of the head axis of a single key/value head (`x.repeat(1, n, 1,
///   1)` with Hkv = 1).
///
/// A Tile of the head axis with Hkv > 1 repeats the heads as a cycle (query
/// head h reads key head h mod Hkv), which is no grouped-query pattern, so
/// it stays.
static Value stripHeadRepetition(Value value) {
  auto resultType = cast<ShapedType>(value.getType());
  if (resultType.getRank() != 4)
    return value;
  if (std::optional<TileMatch> tile = matchTile(value)) {
    bool singleHead =
        cast<ShapedType>(tile->source.getType()).getDimSize(1) == 1 &&
        tile->repeats[0] == 1 && tile->repeats[2] == 1 && tile->repeats[3] == 1;
    return singleHead ? skipIdentityCopies(tile->source) : value;
  }

  Value merged;
  if (auto reshape = value.getDefiningOp<tensor::ReshapeOp>())
    merged = reshape.getSource();
  else if (auto collapse = value.getDefiningOp<tensor::CollapseShapeOp>();
           collapse &&
           collapse.getReassociationIndices() ==
               SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}})
    merged = collapse.getSrc();
  if (!merged)
    return value;

  Value unsqueezed;
  auto broadcast = merged.getDefiningOp<linalg::GenericOp>();
  if (std::optional<TileMatch> tile = matchTile(merged)) {
    if (tile->repeats.size() == 5 && tile->repeats[0] == 1 &&
        tile->repeats[1] == 1 && tile->repeats[3] == 1 &&
        tile->repeats[4] == 1 &&
        cast<ShapedType>(tile->source.getType()).getDimSize(2) == 1)
      unsqueezed = skipIdentityCopies(tile->source);
  } else if (isElementwise(broadcast) && broadcast.getNumDpsInputs() == 1 &&
             broadcast.getNumLoops() == 5) {
    auto yield = cast<linalg::YieldOp>(broadcast.getBody()->getTerminator());
    MLIRContext *context = broadcast.getContext();
    AffineExpr b, g, r, t, d;
    bindDims(context, b, g, r, t, d);
    AffineMap expected = AffineMap::get(
        5, 0, {b, g, getAffineConstantExpr(0, context), t, d}, context);
    if (yield.getOperand(0) == broadcast.getBody()->getArgument(0) &&
        broadcast.getIndexingMapsArray()[0] == expected)
      unsqueezed = broadcast.getDpsInputs()[0];
  }
  if (!unsqueezed)
    return value;

  auto expand = unsqueezed.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getReassociationIndices() !=
                     SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4}})
    return value;

  // NOTE: a tensor.reshape only gives a target shape at run time; the
  // merged result is taken to be [B, Hkv * n, T, D] because the source is
  // [B, Hkv, n, T, D] and the result has rank 4 with the same element count.
  auto repeatedType = cast<ShapedType>(merged.getType());
  if (ShapedType::isDynamic(repeatedType.getDimSize(1)) ||
      ShapedType::isDynamic(repeatedType.getDimSize(2)) ||
      resultType.getDimSize(1) !=
          repeatedType.getDimSize(1) * repeatedType.getDimSize(2))
    return value;
  return expand.getSrc();
}

/// Returns the `[B, H, T, D]` keys whose transpose `[B, H, D, T]` is
/// `transposed`, reusing the source of a linalg.transpose when the
/// permutations cancel and creating a transpose otherwise.
static Value getUntransposedKeys(RewriterBase &rewriter, Location loc,
                                 Value transposed) {
  Value source = transposed;
  SmallVector<int64_t> permutation = {0, 1, 3, 2};
  if (auto transpose = transposed.getDefiningOp<linalg::TransposeOp>()) {
    ArrayRef<int64_t> inner = transpose.getPermutation();
    source = transpose.getInput();
    permutation = {inner[0], inner[1], inner[3], inner[2]};
  }
  if (permutation == SmallVector<int64_t>{0, 1, 2, 3})
    return source;

  auto sourceType = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim : permutation)
    sizes.push_back(tensor::getMixedSize(rewriter, loc, source, dim));
  Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                       sourceType.getElementType());
  return linalg::TransposeOp::create(rewriter, loc, source, init, permutation)
      ->getResult(0);
}

//===----------------------------------------------------------------------===//
// Mask attribute and bias
//===----------------------------------------------------------------------===//

namespace {

/// The mask attribute, stream offsets and left-over terms of one op.
struct MaskDecision {
  MaskAttrInterface mask;
  Value queryOffset;
  Value keyOffset;
  SmallVector<MaskTerm> keptConditions;
  /// Why the bias is needed, for the remark; empty without a bias.
  std::string reason;
};

} // namespace

/// Returns the mask attribute for `bounds` on `k - q`, or null when no
/// rill mask expresses them.
static MaskAttrInterface getMaskForBounds(MLIRContext *context,
                                          const PositionBounds &bounds) {
  if (!bounds.lower && !bounds.upper)
    return FullAttr::get(context);
  if (bounds.upper == 0 && !bounds.lower)
    return CausalAttr::get(context);
  if (bounds.lower && bounds.upper && *bounds.lower <= 0 && *bounds.upper >= 0)
    return WindowAttr::get(context, -*bounds.lower, *bounds.upper);
  return nullptr;
}

static MaskDecision decideMask(MLIRContext *context, const ScoreChain &chain,
                               const FuseAttentionOptions &options) {
  MaskDecision decision;
  PositionBounds total;
  SmallVector<MaskTerm> recognized;
  for (const MaskTerm &term : chain.conditions) {
    FailureOr<PositionBounds> bounds = failure();
    if (term.bounds && options.recognizeMasks)
      bounds = *term.bounds;
    else if (!term.inverted && options.recognizeMasks)
      bounds = analyzePositionMask(term.tensor, term.index);
    PositionBounds merged = total;
    auto sameOffset = [](Value a, Value b) { return !a || !b || a == b; };
    if (succeeded(bounds) &&
        sameOffset(total.queryOffset, bounds->queryOffset) &&
        sameOffset(total.keyOffset, bounds->keyOffset)) {
      if (bounds->lower)
        merged.lower = merged.lower ? std::max(*merged.lower, *bounds->lower)
                                    : *bounds->lower;
      if (bounds->upper)
        merged.upper = merged.upper ? std::min(*merged.upper, *bounds->upper)
                                    : *bounds->upper;
      if (!merged.queryOffset)
        merged.queryOffset = bounds->queryOffset;
      if (!merged.keyOffset)
        merged.keyOffset = bounds->keyOffset;
      total = merged;
      recognized.push_back(term);
      continue;
    }
    decision.keptConditions.push_back(term);
  }

  decision.mask = getMaskForBounds(context, total);
  if (!decision.mask) {
    // The position bounds form no rill mask: keep everything as a bias.
    decision.mask = FullAttr::get(context);
    llvm::append_range(decision.keptConditions, recognized);
    decision.reason = "its query/key position bounds form no causal or "
                      "window mask";
    return decision;
  }
  decision.queryOffset = total.queryOffset;
  decision.keyOffset = total.keyOffset;

  if (decision.keptConditions.empty() && chain.additive.empty())
    return decision;
  if (!options.recognizeMasks) {
    decision.reason = "mask recognition is off (recognize-masks=false)";
    return decision;
  }
  Value firstKept = decision.keptConditions.empty()
                        ? chain.additive.front().tensor
                        : decision.keptConditions.front().tensor;
  StringRef input = findRuntimeInputName(firstKept);
  decision.reason =
      input.empty()
          ? std::string("part of it is not a comparison of query and key "
                        "positions")
          : ("part of it depends on the runtime input '" + input + "'").str();
  return decision;
}

/// Creates the bias `[B|1, H|1, Tq, Tk]`: the sum of the additive terms,
/// replaced by `hiddenScore` where a kept condition is false.
static Value createBias(RewriterBase &rewriter, Location loc, Value scores,
                        const ScoreChain &chain,
                        ArrayRef<MaskTerm> conditions) {
  MLIRContext *context = rewriter.getContext();
  auto scoresType = cast<RankedTensorType>(scores.getType());
  Type elementType = scoresType.getElementType();

  SmallVector<MaskTerm> terms(chain.additive);
  llvm::append_range(terms, conditions);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  std::array<bool, kScoreRank> usesDim = {false, false, true, true};
  for (const MaskTerm &term : terms) {
    FailureOr<AffineMap> map = getIndexMap(context, term.index);
    if (failed(map))
      return Value();
    inputs.push_back(term.tensor);
    maps.push_back(*map);
    for (const PositionExpr &expr : term.index)
      for (unsigned dim = 0; dim < 2; ++dim)
        usesDim[dim] |= expr.coeffs[dim] != 0;
  }

  SmallVector<OpFoldResult> sizes;
  for (unsigned dim = 0; dim < kScoreRank; ++dim)
    sizes.push_back(usesDim[dim]
                        ? tensor::getMixedSize(rewriter, loc, scores, dim)
                        : rewriter.getIndexAttr(1));
  Value init = tensor::EmptyOp::create(rewriter, loc, sizes, elementType);
  maps.push_back(rewriter.getMultiDimIdentityMap(kScoreRank));
  SmallVector<utils::IteratorType> iterators(kScoreRank,
                                             utils::IteratorType::parallel);

  size_t numAdditive = chain.additive.size();
  double hiddenScore = chain.hiddenScore;
  auto generic = linalg::GenericOp::create(
      rewriter, loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &builder, Location bodyLoc, ValueRange arguments) {
        Value sum = arith::ConstantOp::create(
            builder, bodyLoc, builder.getFloatAttr(elementType, 0.0));
        Value visible;
        Value trueValue = arith::ConstantOp::create(builder, bodyLoc,
                                                    builder.getBoolAttr(true));
        for (size_t i = 0; i < terms.size(); ++i) {
          // Additive masks, and Trilu masks that were analysed but kept,
          // are float terms.
          if (i < numAdditive || terms[i].bounds) {
            sum = arith::AddFOp::create(builder, bodyLoc, sum, arguments[i]);
            continue;
          }
          Value condition = arguments[i];
          if (terms[i].inverted)
            condition =
                arith::XOrIOp::create(builder, bodyLoc, condition, trueValue);
          visible = visible ? arith::AndIOp::create(builder, bodyLoc, visible,
                                                    condition)
                                  .getResult()
                            : condition;
        }
        if (visible) {
          Value hidden = arith::ConstantOp::create(
              builder, bodyLoc, builder.getFloatAttr(elementType, hiddenScore));
          sum = arith::SelectOp::create(builder, bodyLoc, visible, sum, hidden);
        }
        linalg::YieldOp::create(builder, bodyLoc, sum);
      });
  return generic->getResult(0);
}

/// Returns `offset` as an index value, or the constant 0 when it is null.
static Value getIndexOffset(RewriterBase &rewriter, Location loc,
                            Value offset) {
  if (!offset)
    return arith::ConstantIndexOp::create(rewriter, loc, 0);
  if (offset.getType().isIndex())
    return offset;
  if (auto cast = offset.getDefiningOp<arith::IndexCastOp>();
      cast && cast.getIn().getType().isIndex())
    return cast.getIn();
  return arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                    offset);
}

//===----------------------------------------------------------------------===//
// fuseAttention
//===----------------------------------------------------------------------===//

FailureOr<AttentionOp>
mlir::rill::fuseAttention(RewriterBase &rewriter,
                          linalg::GenericOp pvContraction,
                          const FuseAttentionOptions &options) {
  if (!isBatchContraction(pvContraction, /*rhsTransposed=*/false))
    return rewriter.notifyMatchFailure(
        pvContraction, "expected a batched contraction of weights [B, H, Tq, "
                       "Tk] with values [B, H, Tk, Dv]");

  FailureOr<Value> scores =
      matchSoftmax(rewriter, pvContraction, pvContraction.getDpsInputs()[0]);
  if (failed(scores))
    return failure();

  ScoreChain chain;
  if (failed(matchScores(rewriter, pvContraction, *scores, chain, 0)))
    return failure();

  Type elementType = getElementTypeOrSelf(*scores);
  if (getElementTypeOrSelf(pvContraction->getResult(0)) != elementType)
    return rewriter.notifyMatchFailure(
        pvContraction, "expected the scores and the output to have the same "
                       "element type");
  for (const MaskTerm &term : chain.additive)
    if (getElementTypeOrSelf(term.tensor) != elementType)
      return rewriter.notifyMatchFailure(
          pvContraction, "expected additive masks of the score element type");

  MLIRContext *context = rewriter.getContext();
  MaskDecision decision = decideMask(context, chain, options);

  // Check every precondition before the first new op, so that a failed
  // match leaves the IR unchanged.
  for (const MaskTerm &term : chain.additive)
    if (failed(getIndexMap(context, term.index)))
      return rewriter.notifyMatchFailure(
          pvContraction, "expected mask terms with affine indexing");
  for (const MaskTerm &term : decision.keptConditions)
    if (failed(getIndexMap(context, term.index)))
      return rewriter.notifyMatchFailure(
          pvContraction, "expected mask terms with affine indexing");

  Location loc = pvContraction.getLoc();
  rewriter.setInsertionPoint(pvContraction);
  double scale = chain.scale;
  Value query = stripConstantFactor(chain.queryKey.getDpsInputs()[0], scale);
  Value keys = chain.queryKey.getDpsInputs()[1];
  bool keysTransposed = chain.queryKey.getIndexingMapsArray()[1].getResult(2) ==
                        getAffineDimExpr(4, context);
  Value key = keysTransposed ? getUntransposedKeys(rewriter, loc, keys) : keys;
  key = stripHeadRepetition(stripConstantFactor(key, scale));
  Value value = stripHeadRepetition(pvContraction.getDpsInputs()[1]);

  Value bias;
  if (!decision.keptConditions.empty() || !chain.additive.empty()) {
    bias = createBias(rewriter, loc, *scores, chain, decision.keptConditions);
    if (!bias)
      return rewriter.notifyMatchFailure(
          pvContraction, "expected mask terms with affine indexing");
  }
  Value queryOffset = getIndexOffset(rewriter, loc, decision.queryOffset);
  Value keyOffset = getIndexOffset(rewriter, loc, decision.keyOffset);

  auto attention = AttentionOp::create(
      rewriter, loc, pvContraction->getResult(0).getType(), query, key, value,
      queryOffset, keyOffset, bias, /*sink_logits=*/Value(), decision.mask,
      rewriter.getF32FloatAttr(static_cast<float>(scale)),
      /*softcap=*/FloatAttr());
  if (bias && options.emitRemarks)
    attention->emitRemark("fusion kept the mask as a bias because ")
        << decision.reason;
  LDBG() << "fused attention with mask " << decision.mask << " at " << loc;
  rewriter.replaceOp(pvContraction, attention->getResults());
  return attention;
}

//===----------------------------------------------------------------------===//
// Patterns and pass
//===----------------------------------------------------------------------===//

namespace {

struct FuseAttentionPattern : OpRewritePattern<linalg::GenericOp> {
  FuseAttentionPattern(MLIRContext *context, FuseAttentionOptions options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    return fuseAttention(rewriter, op, options);
  }

  FuseAttentionOptions options;
};

/// Returns true if `op` looks like the end of an attention layer that did
/// not fuse: a 5-loop contraction whose first input is softmax weights.
static bool isMissedAttention(linalg::GenericOp op) {
  if (op.getNumLoops() != 5 || op.getNumDpsInputs() != 2)
    return false;
  Operation *weights = op.getDpsInputs()[0].getDefiningOp();
  if (isa_and_nonnull<linalg::SoftmaxOp>(weights))
    return true;
  auto generic = dyn_cast_or_null<linalg::GenericOp>(weights);
  return generic && isElementwise(generic) &&
         isa_and_nonnull<arith::DivFOp, arith::TruncFOp>(getYieldedOp(generic));
}

struct RillFuseAttentionPass
    : rill::impl::RillFuseAttentionPassBase<RillFuseAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    FuseAttentionOptions options;
    options.recognizeMasks = recognizeMasks;
    options.emitRemarks = remarks;

    RewritePatternSet patterns(context);
    populateFuseAttentionPatterns(patterns, options);
    if (fuseRotary)
      populateFuseRotaryPatterns(patterns);

    // Folding is off so that large weight constants are never touched; the
    // driver still erases the decomposed ops that become dead.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    config.enableConstantCSE(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();

    if (remarks) {
      emitMissedFusionRemarks(options);
      if (fuseRotary)
        emitMissedRotaryRemarks(getOperation());
    }

    getOperation()->walk([&](Operation *op) {
      if (isa<AttentionOp>(op))
        ++numAttentionFused;
      else if (isa<RotaryOp>(op))
        ++numRotaryFused;
    });
  }

  /// Emits "fusion missed because ..." on every softmax-weighted contraction
  /// left after fusion, with the first precondition that failed.
  void emitMissedFusionRemarks(const FuseAttentionOptions &options) {
    SmallVector<linalg::GenericOp> missed;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (isMissedAttention(op))
        missed.push_back(op);
    });
    for (linalg::GenericOp op : missed) {
      FailureReasonListener listener;
      IRRewriter rewriter(op.getContext(), &listener);
      if (succeeded(fuseAttention(rewriter, op, options)))
        continue;
      op->emitRemark("fusion missed because ") << listener.reason;
    }
  }
};

} // namespace

void mlir::rill::populateFuseAttentionPatterns(
    RewritePatternSet &patterns, const FuseAttentionOptions &options) {
  patterns.add<FuseAttentionPattern>(patterns.getContext(), options);
}
