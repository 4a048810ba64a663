//===- FuseRotary.cpp - Fuse decomposed RoPE into rill.rotary ------------===//
//
// Implements fuseRotary and the other RoPE patterns of rill-fuse-attention.
// Three subgraph shapes become rill.rotary:
//
// - rotate-half (Hugging Face Llama, GPT-NeoX): `x * cos + concat(-x2, x1)
//   * sin`, rooted at the sum;
// - interleaved (Meta's Llama in real arithmetic): x viewed as [..., D/2, 2]
//   pairs, `(e * cos - o * sin, e * sin + o * cos)` stacked and flattened
//   back, rooted at the flattening reshape;
// - partial rotary: `concat(rotary(x[..., :rd]), x[..., rd:])`, rooted at
//   the concat, which widens an already fused op to `rotary_dim = rd`.
//
// cos and sin are either rows of constant tables gathered by position ids
// (the op gets `[P, rd / 2]` tables) or Cos and Sin of position ids times an
// inverse-frequency constant (the op gets the theta that generates it).
//
//===----------------------------------------------------------------------===//

#include "FuseMaskAnalysis.h"

#include "rill/Dialect/Rill/IR/RillOps.h"
#include "rill/Dialect/Rill/Transforms/Transforms.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/DebugLog.h"

#include <cmath>

#define DEBUG_TYPE "rill-fuse-attention"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// The RoPE pair layout: `(i, i + rd / 2)` or `(2i, 2i + 1)`.
enum class RotaryLayout { HalfSplit, Interleaved };

/// Where the cos or sin operand of a RoPE product comes from: rows of a
/// constant table gathered by `positions`, or Cos/Sin of `positions` times
/// the constant `inverseFrequencies`.
struct AngleSource {
  Value positions;
  Value table;
  Value inverseFrequencies;
};

/// The operands and attributes of the rill.rotary that replaces a match.
struct RotaryAngles {
  Value positions;
  Value cosTable;
  Value sinTable;
  double theta = 10000.0;
};

} // namespace

static Operation *getYieldedOp(linalg::GenericOp generic) {
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  if (yield.getNumOperands() != 1)
    return nullptr;
  Operation *op = yield.getOperand(0).getDefiningOp();
  return op && op->getBlock() == generic.getBody() ? op : nullptr;
}

static OpOperand *getInputOperand(linalg::GenericOp generic, Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument || argument.getOwner() != generic.getBody() ||
      argument.getArgNumber() >= generic.getNumDpsInputs())
    return nullptr;
  return generic.getDpsInputOperand(argument.getArgNumber());
}

static bool isElementwise(linalg::GenericOp generic) {
  return generic && generic->getNumResults() == 1 &&
         generic.getNumLoops() == generic.getNumParallelLoops() &&
         generic.getIndexingMapsArray().back().isIdentity();
}

/// Returns the two operands of an elementwise binary generic that yields
/// `OpTy(a, b)` on two inputs.
template <typename OpTy>
static std::optional<std::pair<OpOperand *, OpOperand *>>
matchBinary(linalg::GenericOp generic) {
  if (!isElementwise(generic))
    return std::nullopt;
  auto op = dyn_cast_or_null<OpTy>(getYieldedOp(generic));
  if (!op)
    return std::nullopt;
  OpOperand *lhs = getInputOperand(generic, op->getOperand(0));
  OpOperand *rhs = getInputOperand(generic, op->getOperand(1));
  if (!lhs || !rhs)
    return std::nullopt;
  return std::make_pair(lhs, rhs);
}

/// Returns true if `slice` takes channels [offset, offset + size) of the
/// last dimension of `source` and everything of the others.
static bool isLastDimSlice(Value value, Value source, int64_t offset,
                           int64_t size) {
  auto slice = value.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != source ||
      slice.getSourceType().getRank() != slice.getResultType().getRank())
    return false;
  int64_t last = slice.getSourceType().getRank() - 1;
  for (auto [dim, offsetValue, stride] :
       llvm::enumerate(slice.getMixedOffsets(), slice.getMixedStrides())) {
    std::optional<int64_t> staticOffset = getConstantIntValue(offsetValue);
    if (getConstantIntValue(stride) != 1 || !staticOffset ||
        *staticOffset != (static_cast<int64_t>(dim) == last ? offset : 0))
      return false;
  }
  return slice.getResultType().getDimSize(last) == size;
}

/// Returns `x` when `value` is `concat(-x[..., h:], x[..., :h])` along the
/// last dimension with `2 * h` the static last dimension of `x`.
static Value matchRotateHalf(Value value) {
  auto concat = value.getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2 ||
      static_cast<int64_t>(concat.getDim()) !=
          concat.getResultType().getRank() - 1)
    return Value();
  auto negate = concat.getInputs()[0].getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(negate) || negate.getNumDpsInputs() != 1 ||
      !isa_and_nonnull<arith::NegFOp>(getYieldedOp(negate)))
    return Value();
  auto high = negate.getDpsInputs()[0].getDefiningOp<tensor::ExtractSliceOp>();
  if (!high)
    return Value();
  Value input = high.getSource();
  int64_t size = concat.getResultType().getShape().back();
  if (ShapedType::isDynamic(size) || size % 2 != 0 ||
      cast<ShapedType>(input.getType()).getShape().back() != size)
    return Value();
  int64_t half = size / 2;
  if (!isLastDimSlice(high, input, half, half) ||
      !isLastDimSlice(concat.getInputs()[1], input, 0, half))
    return Value();
  return input;
}

//===----------------------------------------------------------------------===//
// cos and sin operands
//===----------------------------------------------------------------------===//

/// Relative tolerance for inverse frequencies against theta^(-2i / rd).
/// Exporters compute them in float32, whose rounding is about 6e-8.
static constexpr double kInverseFrequencyTolerance = 1.0e-5;

/// Returns the elements of a constant static f32 tensor, dense or resource,
/// and sets `type` to its type; nullopt for anything else.
static std::optional<SmallVector<float>> getConstantFloats(Value value,
                                                           ShapedType &type) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  type = cast<ShapedType>(cast<TypedAttr>(attr).getType());
  if (!type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;

  SmallVector<float> values;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (const APFloat &element : dense.getValues<APFloat>())
      values.push_back(element.convertToFloat());
  } else if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    values.assign(data->begin(), data->end());
  } else {
    return std::nullopt;
  }
  return values;
}

/// Returns true if every row of the constant `table` [P, D] repeats its
/// first half in its second half, as cos and sin tables of rotate-half
/// RoPE do.
static bool hasRepeatedHalves(Value table) {
  ShapedType type;
  std::optional<SmallVector<float>> values = getConstantFloats(table, type);
  if (!values || type.getRank() != 2 || type.getDimSize(1) % 2 != 0)
    return false;
  int64_t columns = type.getDimSize(1);
  int64_t half = columns / 2;
  for (int64_t row = 0; row < type.getDimSize(0); ++row)
    for (int64_t column = 0; column < half; ++column)
      if ((*values)[row * columns + column] !=
          (*values)[row * columns + column + half])
        return false;
  return true;
}

/// Returns the ops of `body` that `value` is computed from, including the
/// op that defines `value`.
static SetVector<Operation *> getBodySlice(Value value, Block *body) {
  SetVector<Operation *> slice;
  Operation *definingOp = value.getDefiningOp();
  if (!definingOp || definingOp->getBlock() != body)
    return slice;
  BackwardSliceOptions options;
  options.filter = [&](Operation *op) { return op->getBlock() == body; };
  (void)getBackwardSlice(definingOp, &slice, options);
  slice.insert(definingOp);
  return slice;
}

/// Returns true if `value` is the body argument `argument` or is computed
/// from it by the ops in `slice`.
static bool readsArgument(Value value, Value argument,
                          const SetVector<Operation *> &slice) {
  return value == argument || llvm::any_of(slice, [&](Operation *op) {
           return llvm::is_contained(op->getOperands(), argument);
         });
}

/// Returns the [B, T, W] rows behind `operand` of `user` when `user` reads
/// them unsqueezed to [B, 1, T, W] and broadcast over heads. The map is
/// (d0, 0, d2, d3), or the identity when `user` has a single head.
static Value matchBroadcastRows(linalg::GenericOp user, OpOperand *operand) {
  MLIRContext *context = user.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(context, d0, d1, d2, d3);
  AffineMap broadcast = AffineMap::get(
      4, 0, {d0, getAffineConstantExpr(0, context), d2, d3}, context);
  AffineMap map = user.getMatchingIndexingMap(operand);
  bool singleHead =
      map.isIdentity() &&
      cast<ShapedType>(user->getResult(0).getType()).getDimSize(1) == 1;
  if (map != broadcast && !singleHead)
    return Value();
  auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getReassociationIndices() !=
                     SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}})
    return Value();
  return expand.getSrc();
}

/// Returns the table and positions when `rows` [B, T, W] are rows of a
/// constant [P, W] table gathered by a [B, T] integer tensor.
static std::optional<AngleSource> matchGatheredRows(Value rows) {
  auto gather = rows.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(gather) || gather.getNumDpsInputs() != 1 ||
      gather.getNumLoops() != 3)
    return std::nullopt;
  MLIRContext *context = gather.getContext();
  AffineExpr d0, d1;
  bindDims(context, d0, d1);
  if (gather.getIndexingMapsArray()[0] !=
      AffineMap::get(3, 0, {d0, d1}, context))
    return std::nullopt;
  auto extract = dyn_cast_or_null<tensor::ExtractOp>(getYieldedOp(gather));
  if (!extract || extract.getIndices().size() != 2)
    return std::nullopt;
  auto column = extract.getIndices()[1].getDefiningOp<linalg::IndexOp>();
  if (!column || column.getDim() != 2)
    return std::nullopt;

  // The row index must come from the position id (possibly wrapped for
  // negative ids, which positions never are).
  Value positions = gather.getDpsInputs()[0];
  if (!isa<IntegerType>(getElementTypeOrSelf(positions)))
    return std::nullopt;
  Value argument = gather.getBody()->getArgument(0);
  if (!readsArgument(extract.getIndices()[0], argument,
                     getBodySlice(extract.getIndices()[0], gather.getBody())))
    return std::nullopt;
  ShapedType tableType;
  if (!getConstantFloats(extract.getTensor(), tableType) ||
      tableType.getRank() != 2)
    return std::nullopt;
  return AngleSource{positions, extract.getTensor(), Value()};
}

/// Returns the [B, T] integer positions behind `value` [B, T, 1], the float
/// conversion of position ids with a trailing unit axis.
static Value matchPositionConversion(Value value) {
  auto convert = value.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(convert) || convert.getNumDpsInputs() != 1 ||
      !convert.getIndexingMapsArray()[0].isIdentity())
    return Value();
  auto toFloat = dyn_cast_or_null<arith::SIToFPOp>(getYieldedOp(convert));
  if (!toFloat || toFloat.getIn() != convert.getBody()->getArgument(0))
    return Value();
  auto expand = convert.getDpsInputs()[0].getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getReassociationIndices() !=
                     SmallVector<ReassociationIndices>{{0}, {1, 2}})
    return Value();
  return expand.getSrc();
}

/// Returns the positions and inverse frequencies when `rows` [B, T, W] are
/// `cos(angles)` (or `sin` unless `cosine`) with `angles[b, t, i] =
/// float(positions[b, t]) * inverse_frequencies[i]`, the angles repeated
/// along the last axis (`concat(freqs, freqs)`) when `duplicated`.
static std::optional<AngleSource> matchComputedRows(Value rows, bool cosine,
                                                    bool duplicated) {
  auto trig = rows.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(trig) || trig.getNumDpsInputs() != 1 ||
      trig.getNumLoops() != 3 || !trig.getIndexingMapsArray()[0].isIdentity())
    return std::nullopt;
  Operation *op = getYieldedOp(trig);
  bool rightFunction = cosine ? isa_and_nonnull<math::CosOp>(op)
                              : isa_and_nonnull<math::SinOp>(op);
  if (!rightFunction || op->getOperand(0) != trig.getBody()->getArgument(0))
    return std::nullopt;

  Value angles = trig.getDpsInputs()[0];
  if (duplicated) {
    auto concat = angles.getDefiningOp<tensor::ConcatOp>();
    if (!concat || concat.getInputs().size() != 2 || concat.getDim() != 2 ||
        concat.getInputs()[0] != concat.getInputs()[1])
      return std::nullopt;
    angles = concat.getInputs()[0];
  }

  // TODO: Hugging Face's newer `inv_freq_expanded @ position_ids_expanded`
  // form (a MatMul followed by a transpose) is not matched.
  auto product = angles.getDefiningOp<linalg::GenericOp>();
  auto factors = matchBinary<arith::MulFOp>(product);
  if (!factors || product.getNumLoops() != 3)
    return std::nullopt;
  MLIRContext *context = product.getContext();
  AffineExpr d0, d1, d2;
  bindDims(context, d0, d1, d2);
  AffineMap positionMap = AffineMap::get(
      3, 0, {d0, d1, getAffineConstantExpr(0, context)}, context);
  AffineMap frequencyMap = AffineMap::get(3, 0, {d2}, context);
  for (auto [position, frequency] :
       {*factors, std::make_pair(factors->second, factors->first)}) {
    if (product.getMatchingIndexingMap(position) != positionMap ||
        product.getMatchingIndexingMap(frequency) != frequencyMap)
      continue;
    Value positions = matchPositionConversion(position->get());
    ShapedType frequencyType;
    if (positions &&
        getConstantFloats(frequency->get(), frequencyType) &&
        frequencyType.getRank() == 1)
      return AngleSource{positions, Value(), frequency->get()};
  }
  return std::nullopt;
}

/// Returns the theta for which the constant `inverseFrequencies` [rd / 2]
/// holds theta^(-2i / rd) for every i, within kInverseFrequencyTolerance;
/// nullopt when no theta fits. A theta that rounds to an integer is
/// returned rounded when the integer fits too.
static std::optional<double> recoverTheta(Value inverseFrequencies,
                                          int64_t rotaryDim) {
  ShapedType type;
  std::optional<SmallVector<float>> values =
      getConstantFloats(inverseFrequencies, type);
  if (!values || type.getRank() != 1 ||
      2 * static_cast<int64_t>(values->size()) != rotaryDim)
    return std::nullopt;
  int64_t count = values->size();

  // The last entry has the largest exponent, so it pins theta down best.
  // With one entry (always 1) every theta fits and the default is kept.
  double theta = 10000.0;
  if (count > 1) {
    double last = values->back();
    if (!(last > 0.0 && last < 1.0))
      return std::nullopt;
    theta = std::pow(last, -static_cast<double>(rotaryDim) /
                               (2.0 * static_cast<double>(count - 1)));
  }
  auto fits = [&](double candidate) {
    for (int64_t i = 0; i < count; ++i) {
      double expected = std::pow(candidate, -2.0 * i / rotaryDim);
      if (std::abs((*values)[i] - expected) >
          kInverseFrequencyTolerance * expected)
        return false;
    }
    return true;
  };
  double rounded = std::round(theta);
  if (rounded > 0.0 && fits(rounded))
    return rounded;
  if (fits(theta))
    return theta;
  return std::nullopt;
}

/// Matches the cos operand of `cosUser` and the sin operand of `sinUser` of
/// a RoPE over `rotaryDim` channels in `layout`. The half-split layout
/// reads [P, rd] tables with repeated halves, or computed angles duplicated
/// by a concat. The interleaved layout reads [P, rd / 2] tables, or the
/// computed angles themselves.
static FailureOr<RotaryAngles>
matchRotaryAngles(RewriterBase &rewriter, Operation *anchor,
                  linalg::GenericOp cosUser, OpOperand *cosOperand,
                  linalg::GenericOp sinUser, OpOperand *sinOperand,
                  RotaryLayout layout, int64_t rotaryDim) {
  Value cosRows = matchBroadcastRows(cosUser, cosOperand);
  Value sinRows = matchBroadcastRows(sinUser, sinOperand);
  if (!cosRows || !sinRows)
    return rewriter.notifyMatchFailure(
        anchor, "expected cos and sin of shape [B, T, W] unsqueezed and "
                "broadcast over heads");
  bool halfSplit = layout == RotaryLayout::HalfSplit;
  int64_t width = halfSplit ? rotaryDim : rotaryDim / 2;
  if (cast<ShapedType>(cosRows.getType()).getShape().back() != width ||
      cast<ShapedType>(sinRows.getType()).getShape().back() != width)
    return rewriter.notifyMatchFailure(anchor, [&](Diagnostic &diagnostic) {
      diagnostic << "expected cos and sin rows of width " << width;
    });

  std::optional<AngleSource> cos = matchGatheredRows(cosRows);
  std::optional<AngleSource> sin = matchGatheredRows(sinRows);
  if (cos && sin) {
    if (cos->positions != sin->positions)
      return rewriter.notifyMatchFailure(
          anchor, "expected cos and sin gathered by the same position ids");
    if (halfSplit &&
        (!hasRepeatedHalves(cos->table) || !hasRepeatedHalves(sin->table)))
      return rewriter.notifyMatchFailure(
          anchor, "expected cos and sin gathered from constant tables whose "
                  "rows repeat their first half");
    return RotaryAngles{cos->positions, cos->table, sin->table, 10000.0};
  }

  cos = matchComputedRows(cosRows, /*cosine=*/true, /*duplicated=*/halfSplit);
  sin = matchComputedRows(sinRows, /*cosine=*/false, /*duplicated=*/halfSplit);
  if (!cos || !sin)
    return rewriter.notifyMatchFailure(
        anchor, halfSplit
                    ? "expected cos and sin gathered from constant tables by "
                      "position ids, or Cos and Sin of concat(freqs, freqs) "
                      "with freqs = float(position_ids) * inv_freq"
                    : "expected cos and sin gathered from constant tables by "
                      "position ids, or Cos and Sin of float(position_ids) "
                      "* inv_freq");
  if (cos->positions != sin->positions)
    return rewriter.notifyMatchFailure(
        anchor, "expected cos and sin computed from the same position ids");
  std::optional<double> cosTheta =
      recoverTheta(cos->inverseFrequencies, rotaryDim);
  std::optional<double> sinTheta =
      recoverTheta(sin->inverseFrequencies, rotaryDim);
  if (!cosTheta || !sinTheta || *cosTheta != *sinTheta)
    return rewriter.notifyMatchFailure(anchor, [&](Diagnostic &diagnostic) {
      diagnostic << "expected inverse frequencies theta^(-2i/" << rotaryDim
                 << ") for a single theta, within a relative "
                 << kInverseFrequencyTolerance;
    });
  return RotaryAngles{cos->positions, Value(), Value(), *cosTheta};
}

/// Returns the first half of the columns of the [P, D] table.
static Value sliceFirstHalf(RewriterBase &rewriter, Location loc, Value table) {
  auto type = cast<RankedTensorType>(table.getType());
  SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = {
      rewriter.getIndexAttr(type.getDimSize(0)),
      rewriter.getIndexAttr(type.getDimSize(1) / 2)};
  SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(rewriter, loc, table, offsets, sizes,
                                        strides);
}

/// Replaces `root` with rill.rotary on `input`.
static RotaryOp replaceWithRotary(RewriterBase &rewriter, Operation *root,
                                  Value input, const RotaryAngles &angles,
                                  RotaryLayout layout, int64_t rotaryDim) {
  Location loc = root->getLoc();
  rewriter.setInsertionPoint(root);
  Value cosTable = angles.cosTable;
  Value sinTable = angles.sinTable;
  if (cosTable && layout == RotaryLayout::HalfSplit) {
    cosTable = sliceFirstHalf(rewriter, loc, cosTable);
    sinTable = sliceFirstHalf(rewriter, loc, sinTable);
  }
  auto rotary = RotaryOp::create(
      rewriter, loc, input.getType(), input, angles.positions, cosTable,
      sinTable, rewriter.getF64FloatAttr(angles.theta),
      rewriter.getI64IntegerAttr(rotaryDim),
      layout == RotaryLayout::Interleaved ? rewriter.getUnitAttr()
                                          : UnitAttr());
  rewriter.replaceOp(root, rotary->getResults());
  return rotary;
}

//===----------------------------------------------------------------------===//
// Half-split layout
//===----------------------------------------------------------------------===//

FailureOr<RotaryOp> mlir::rill::fuseRotary(RewriterBase &rewriter,
                                           linalg::GenericOp add) {
  auto sum = matchBinary<arith::AddFOp>(add);
  if (!sum || add->getResult(0).getType() != sum->first->get().getType() ||
      add->getResult(0).getType() != sum->second->get().getType() ||
      !add.getMatchingIndexingMap(sum->first).isIdentity() ||
      !add.getMatchingIndexingMap(sum->second).isIdentity())
    return rewriter.notifyMatchFailure(
        add, "expected the sum of two products of the same shape");
  if (cast<ShapedType>(add->getResult(0).getType()).getRank() != 4)
    return rewriter.notifyMatchFailure(add, "expected a [B, H, T, D] result");

  for (auto [direct, rotated] : {std::make_pair(sum->first, sum->second),
                                 std::make_pair(sum->second, sum->first)}) {
    auto rotatedProduct = rotated->get().getDefiningOp<linalg::GenericOp>();
    auto directProduct = direct->get().getDefiningOp<linalg::GenericOp>();
    auto rotatedOperands = matchBinary<arith::MulFOp>(rotatedProduct);
    auto directOperands = matchBinary<arith::MulFOp>(directProduct);
    if (!rotatedOperands || !directOperands)
      continue;

    // x * cos and rotate_half(x) * sin, each in either operand order.
    for (auto [rotatedInput, sinOperand] :
         {*rotatedOperands,
          std::make_pair(rotatedOperands->second, rotatedOperands->first)}) {
      Value input = matchRotateHalf(rotatedInput->get());
      if (!input ||
          !rotatedProduct.getMatchingIndexingMap(rotatedInput).isIdentity())
        continue;
      for (auto [inputOperand, cosOperand] :
           {*directOperands,
            std::make_pair(directOperands->second, directOperands->first)}) {
        if (inputOperand->get() != input ||
            !directProduct.getMatchingIndexingMap(inputOperand).isIdentity())
          continue;
        int64_t rotaryDim = cast<ShapedType>(input.getType()).getShape().back();
        FailureOr<RotaryAngles> angles = matchRotaryAngles(
            rewriter, add, directProduct, cosOperand, rotatedProduct,
            sinOperand, RotaryLayout::HalfSplit, rotaryDim);
        if (failed(angles))
          return failure();
        LDBG() << "fused rotate-half RoPE at " << add.getLoc();
        return replaceWithRotary(rewriter, add, input, *angles,
                                 RotaryLayout::HalfSplit, rotaryDim);
      }
    }
  }
  return rewriter.notifyMatchFailure(
      add, "expected x * cos + concat(-x[..., h:], x[..., :h]) * sin");
}

//===----------------------------------------------------------------------===//
// Interleaved layout
//===----------------------------------------------------------------------===//

namespace {

/// One element of every channel pair of `input`: `component` 0 is the even
/// channel 2i and 1 the odd channel 2i + 1.
struct PairElement {
  Value input;
  int64_t component;
};

/// A product `element * factor` in the interleaved rotation.
struct PairProduct {
  PairElement element;
  linalg::GenericOp product;
  OpOperand *factor;
};

} // namespace

/// Returns the [B, H, T, D] tensor whose last axis `pairs` splits into
/// [D / 2, 2]: a tensor.reshape with the same leading sizes, or an
/// expand_shape of the last axis.
static Value matchPairView(Value pairs) {
  auto pairsType = cast<ShapedType>(pairs.getType());
  Value input;
  if (auto reshape = pairs.getDefiningOp<tensor::ReshapeOp>())
    input = reshape.getSource();
  else if (auto expand = pairs.getDefiningOp<tensor::ExpandShapeOp>();
           expand &&
           expand.getReassociationIndices() ==
               SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}})
    input = expand.getSrc();
  if (!input)
    return Value();
  // NOTE: a tensor.reshape to a runtime shape is trusted to keep the
  // leading sizes when its static result type shows the same ones.
  auto inputType = cast<ShapedType>(input.getType());
  if (pairsType.getRank() != 5 || inputType.getRank() != 4 ||
      pairsType.getShape().take_front(3) != inputType.getShape().take_front(3) ||
      pairsType.getDimSize(4) != 2 || ShapedType::isDynamic(pairsType.getDimSize(3)) ||
      inputType.getDimSize(3) != 2 * pairsType.getDimSize(3))
    return Value();
  return input;
}

/// Returns the input and component when `value` [B, H, T, D / 2] contains
/// one element of every channel pair: Gather of a constant index on the last
/// axis of the [B, H, T, D / 2, 2] view (torch's `x.reshape(..., -1, 2)[...,
/// c]`), or a slice with stride 2 at offset c (`x[..., c::2]`).
static std::optional<PairElement> matchPairElement(Value value) {
  auto valueType = cast<ShapedType>(value.getType());
  if (valueType.getRank() != 4)
    return std::nullopt;

  if (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>()) {
    Value input = slice.getSource();
    auto inputType = slice.getSourceType();
    if (inputType.getRank() != 4 || ShapedType::isDynamic(inputType.getDimSize(3)) ||
        valueType.getShape().take_front(3) != inputType.getShape().take_front(3) ||
        2 * valueType.getDimSize(3) != inputType.getDimSize(3))
      return std::nullopt;
    for (auto [dim, offset, stride] : llvm::enumerate(
             slice.getMixedOffsets(), slice.getMixedStrides())) {
      std::optional<int64_t> staticOffset = getConstantIntValue(offset);
      std::optional<int64_t> staticStride = getConstantIntValue(stride);
      bool last = dim == 3;
      if (!staticOffset || !staticStride || *staticStride != (last ? 2 : 1) ||
          (!last && *staticOffset != 0) || (last && *staticOffset > 1))
        return std::nullopt;
    }
    return PairElement{input, *getConstantIntValue(slice.getMixedOffsets()[3])};
  }

  auto gather = value.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(gather) || gather.getNumLoops() != 4 ||
      gather.getNumDpsInputs() != 1 ||
      gather.getIndexingMapsArray()[0].getNumResults() != 0)
    return std::nullopt;
  DenseIntElementsAttr indexAttr;
  if (!matchPattern(gather.getDpsInputs()[0], m_Constant(&indexAttr)) ||
      !indexAttr.isSplat())
    return std::nullopt;
  int64_t component = indexAttr.getSplatValue<APInt>().getSExtValue();
  if (component < 0)
    component += 2;
  if (component != 0 && component != 1)
    return std::nullopt;

  auto extract = dyn_cast_or_null<tensor::ExtractOp>(getYieldedOp(gather));
  if (!extract || extract.getIndices().size() != 5 ||
      extract.getTensor().getParentBlock() == gather.getBody())
    return std::nullopt;
  for (unsigned dim = 0; dim < 4; ++dim) {
    auto index = extract.getIndices()[dim].getDefiningOp<linalg::IndexOp>();
    if (!index || index.getDim() != dim)
      return std::nullopt;
  }
  // The pair index must depend on the constant index alone.
  Value argument = gather.getBody()->getArgument(0);
  Value pairIndex = extract.getIndices()[4];
  SetVector<Operation *> slice = getBodySlice(pairIndex, gather.getBody());
  if (!readsArgument(pairIndex, argument, slice) ||
      llvm::any_of(slice, [](Operation *op) {
        return isa<linalg::IndexOp>(op);
      }))
    return std::nullopt;
  Value input = matchPairView(extract.getTensor());
  if (!input)
    return std::nullopt;
  return PairElement{input, component};
}

/// Matches `value` as `element * factor` in either operand order.
static std::optional<PairProduct> matchPairProduct(Value value) {
  auto product = value.getDefiningOp<linalg::GenericOp>();
  auto factors = matchBinary<arith::MulFOp>(product);
  if (!factors)
    return std::nullopt;
  for (auto [element, factor] :
       {*factors, std::make_pair(factors->second, factors->first)}) {
    if (!product.getMatchingIndexingMap(element).isIdentity())
      continue;
    if (std::optional<PairElement> pair = matchPairElement(element->get()))
      return PairProduct{*pair, product, factor};
  }
  return std::nullopt;
}

/// Returns the two identity-mapped operands of an elementwise generic
/// yielding `OpTy(a, b)`, in body order.
template <typename OpTy>
static std::optional<std::pair<Value, Value>> matchSameShapeBinary(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  auto operands = matchBinary<OpTy>(generic);
  if (!operands || !generic.getMatchingIndexingMap(operands->first).isIdentity() ||
      !generic.getMatchingIndexingMap(operands->second).isIdentity())
    return std::nullopt;
  return std::make_pair(operands->first->get(), operands->second->get());
}

/// Fuses the interleaved RoPE rooted at `flatten`, a tensor.reshape or
/// tensor.collapse_shape of `stack([e * cos - o * sin, e * sin + o * cos],
/// -1)` back to [B, H, T, D], where e and o are the even and odd channels.
static FailureOr<RotaryOp> fuseInterleavedRotary(RewriterBase &rewriter,
                                                 Operation *flatten) {
  Value stacked;
  if (auto reshape = dyn_cast<tensor::ReshapeOp>(flatten))
    stacked = reshape.getSource();
  else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(flatten);
           collapse &&
           collapse.getReassociationIndices() ==
               SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}})
    stacked = collapse.getSrc();
  auto resultType = cast<ShapedType>(flatten->getResult(0).getType());
  auto stackedType =
      stacked ? cast<ShapedType>(stacked.getType()) : ShapedType();
  if (!stacked || resultType.getRank() != 4 || stackedType.getRank() != 5 ||
      stackedType.getDimSize(4) != 2 ||
      ShapedType::isDynamic(stackedType.getDimSize(3)) ||
      resultType.getDimSize(3) != 2 * stackedType.getDimSize(3) ||
      resultType.getShape().take_front(3) !=
          stackedType.getShape().take_front(3))
    return rewriter.notifyMatchFailure(
        flatten, "expected a [B, H, T, D / 2, 2] tensor flattened to "
                 "[B, H, T, D]");

  auto concat = stacked.getDefiningOp<tensor::ConcatOp>();
  SmallVector<Value> rotated;
  if (concat && concat.getDim() == 4 && concat.getInputs().size() == 2) {
    for (Value input : concat.getInputs()) {
      auto expand = input.getDefiningOp<tensor::ExpandShapeOp>();
      if (expand && expand.getReassociationIndices() ==
                        SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}})
        rotated.push_back(expand.getSrc());
    }
  }
  if (rotated.size() != 2)
    return rewriter.notifyMatchFailure(
        flatten, "expected the rotated pair elements stacked along a new "
                 "last axis");

  auto difference = matchSameShapeBinary<arith::SubFOp>(rotated[0]);
  auto sum = matchSameShapeBinary<arith::AddFOp>(rotated[1]);
  if (!difference || !sum)
    return rewriter.notifyMatchFailure(
        flatten, "expected (e * cos - o * sin, e * sin + o * cos) for the "
                 "even and odd channels e and o");

  std::optional<PairProduct> evenCos = matchPairProduct(difference->first);
  std::optional<PairProduct> oddSin = matchPairProduct(difference->second);
  std::optional<PairProduct> evenSin = matchPairProduct(sum->first);
  std::optional<PairProduct> oddCos = matchPairProduct(sum->second);
  if (evenSin && evenSin->element.component == 1)
    std::swap(evenSin, oddCos);
  if (!evenCos || !oddSin || !evenSin || !oddCos)
    return rewriter.notifyMatchFailure(
        flatten, "expected every product to read the even or odd channels "
                 "of the input (a Gather of the [..., D / 2, 2] view or a "
                 "slice with stride 2)");
  Value input = evenCos->element.input;
  bool samePairs = evenCos->element.component == 0 &&
                   oddSin->element.component == 1 &&
                   evenSin->element.component == 0 &&
                   oddCos->element.component == 1;
  for (const PairProduct *product : {&*oddSin, &*evenSin, &*oddCos})
    samePairs &= product->element.input == input;
  if (!samePairs || input.getType() != resultType)
    return rewriter.notifyMatchFailure(
        flatten, "expected the even channel times cos minus the odd channel "
                 "times sin, and the even channel times sin plus the odd "
                 "channel times cos, all of the same input");
  if (evenCos->factor->get() != oddCos->factor->get() ||
      oddSin->factor->get() != evenSin->factor->get())
    return rewriter.notifyMatchFailure(
        flatten, "expected the same cos and the same sin in both rotated "
                 "channels");

  int64_t rotaryDim = resultType.getDimSize(3);
  FailureOr<RotaryAngles> angles = matchRotaryAngles(
      rewriter, flatten, evenCos->product, evenCos->factor, oddSin->product,
      oddSin->factor, RotaryLayout::Interleaved, rotaryDim);
  if (failed(angles))
    return failure();
  LDBG() << "fused interleaved RoPE at " << flatten->getLoc();
  return replaceWithRotary(rewriter, flatten, input, *angles,
                           RotaryLayout::Interleaved, rotaryDim);
}

//===----------------------------------------------------------------------===//
// Partial rotary
//===----------------------------------------------------------------------===//

/// Rewrites `concat(rotary(x[..., :rd]), x[..., rd:])` along the last axis
/// into one rill.rotary on `x` with `rotary_dim = rd`.
static FailureOr<RotaryOp> widenPartialRotary(RewriterBase &rewriter,
                                              tensor::ConcatOp concat) {
  auto resultType = concat.getResultType();
  if (concat.getInputs().size() != 2 || resultType.getRank() != 4 ||
      concat.getDim() != 3)
    return rewriter.notifyMatchFailure(
        concat, "expected two inputs concatenated along the last axis");
  auto rotary = concat.getInputs()[0].getDefiningOp<RotaryOp>();
  auto rotated = rotary ? rotary.getInput().getDefiningOp<tensor::ExtractSliceOp>()
                        : tensor::ExtractSliceOp();
  if (!rotated)
    return rewriter.notifyMatchFailure(
        concat, "expected rill.rotary of a slice as the first input");
  Value input = rotated.getSource();
  int64_t rotaryDim = rotary.getEffectiveRotaryDim();
  int64_t headSize = resultType.getDimSize(3);
  if (input.getType() != resultType || ShapedType::isDynamic(headSize) ||
      ShapedType::isDynamic(rotaryDim) ||
      rotary.getInput().getType().getDimSize(3) != rotaryDim ||
      !isLastDimSlice(rotated, input, 0, rotaryDim) ||
      !isLastDimSlice(concat.getInputs()[1], input, rotaryDim,
                      headSize - rotaryDim))
    return rewriter.notifyMatchFailure(
        concat, "expected concat(rotary(x[..., :rd]), x[..., rd:])");

  rewriter.setInsertionPoint(concat);
  auto widened = RotaryOp::create(
      rewriter, concat.getLoc(), input.getType(), input, rotary.getPositions(),
      rotary.getCosTable(), rotary.getSinTable(), rotary.getThetaAttr(),
      rewriter.getI64IntegerAttr(rotaryDim), rotary.getInterleavedAttr());
  LDBG() << "widened partial RoPE at " << concat.getLoc();
  rewriter.replaceOp(concat, widened->getResults());
  return widened;
}

//===----------------------------------------------------------------------===//
// Remarks on RoPE that did not fuse
//===----------------------------------------------------------------------===//

/// Returns the root that a RoPE pattern would start from for the product
/// `product` of a computed cos or sin: the flattening reshape of an
/// interleaved rotation, or the sum (or difference) of a half-split one.
static Operation *findRotaryRoot(Operation *product) {
  for (Operation *combine : product->getUsers()) {
    auto generic = dyn_cast<linalg::GenericOp>(combine);
    if (!generic || !isElementwise(generic))
      continue;
    for (Operation *unsqueeze : combine->getUsers()) {
      if (!isa<tensor::ExpandShapeOp>(unsqueeze))
        continue;
      for (Operation *stack : unsqueeze->getUsers())
        if (isa<tensor::ConcatOp>(stack))
          for (Operation *flatten : stack->getUsers())
            if (isa<tensor::ReshapeOp, tensor::CollapseShapeOp>(flatten))
              return flatten;
    }
    if (isa_and_nonnull<arith::AddFOp>(getYieldedOp(generic)))
      return combine;
  }
  return nullptr;
}

void mlir::rill::fusion::emitMissedRotaryRemarks(Operation *root) {
  SetVector<Operation *> roots;
  root->walk([&](linalg::GenericOp trig) {
    if (!isElementwise(trig) ||
        !isa_and_nonnull<math::CosOp, math::SinOp>(getYieldedOp(trig)))
      return;
    for (Operation *unsqueeze : trig->getUsers())
      for (Operation *product : unsqueeze->getUsers())
        if (Operation *rotaryRoot = findRotaryRoot(product))
          roots.insert(rotaryRoot);
  });

  for (Operation *rotaryRoot : roots) {
    FailureReasonListener listener;
    IRRewriter rewriter(rotaryRoot->getContext(), &listener);
    LogicalResult fused =
        isa<linalg::GenericOp>(rotaryRoot)
            ? LogicalResult(
                  fuseRotary(rewriter, cast<linalg::GenericOp>(rotaryRoot)))
            : LogicalResult(fuseInterleavedRotary(rewriter, rotaryRoot));
    if (succeeded(fused))
      continue;
    rotaryRoot->emitRemark("RoPE fusion missed because ") << listener.reason;
  }
}

namespace {

struct FuseRotaryPattern : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    return fuseRotary(rewriter, op);
  }
};

template <typename FlattenOpTy>
struct FuseInterleavedRotaryPattern : OpRewritePattern<FlattenOpTy> {
  using OpRewritePattern<FlattenOpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(FlattenOpTy op,
                                PatternRewriter &rewriter) const override {
    return fuseInterleavedRotary(rewriter, op);
  }
};

struct WidenPartialRotaryPattern : OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    return widenPartialRotary(rewriter, op);
  }
};

} // namespace

void mlir::rill::populateFuseRotaryPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseRotaryPattern,
               FuseInterleavedRotaryPattern<tensor::ReshapeOp>,
               FuseInterleavedRotaryPattern<tensor::CollapseShapeOp>,
               WidenPartialRotaryPattern>(patterns.getContext());
}
