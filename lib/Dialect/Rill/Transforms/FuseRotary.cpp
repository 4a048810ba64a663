//===- FuseRotary.cpp - Fuse decomposed RoPE into rill.rotary ------------===//
//
// Implements fuseRotary: the rotate-half form of rotary position embedding
// that Hugging Face Llama exports contain, `x * cos + concat(-x2, x1) *
// sin`, where cos and sin are rows of constant tables gathered by position
// ids and broadcast over heads. The tables repeat their first half in
// their second half, so rill.rotary gets the first halves as its
// `[max_pos, D / 2]` tables.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillOps.h"
#include "rill/Dialect/Rill/Transforms/Transforms.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "rill-fuse-attention"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// A table of cos or sin values gathered by position ids.
struct GatheredTable {
  Value table;
  Value positions;
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

/// Returns true if every row of the constant `table` [P, D] repeats its
/// first half in its second half, as cos and sin tables of rotate-half
/// RoPE do.
static bool hasRepeatedHalves(Value table) {
  Attribute attr;
  if (!matchPattern(table, m_Constant(&attr)))
    return false;
  auto type = cast<ShapedType>(cast<TypedAttr>(attr).getType());
  if (type.getRank() != 2 || !type.getElementType().isF32() ||
      !type.hasStaticShape() || type.getDimSize(1) % 2 != 0)
    return false;

  SmallVector<float> values;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (const APFloat &value : dense.getValues<APFloat>())
      values.push_back(value.convertToFloat());
  } else if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data)
      return false;
    values.assign(data->begin(), data->end());
  } else {
    return false;
  }

  int64_t columns = type.getDimSize(1);
  int64_t half = columns / 2;
  for (int64_t row = 0; row < type.getDimSize(0); ++row)
    for (int64_t column = 0; column < half; ++column)
      if (values[row * columns + column] !=
          values[row * columns + column + half])
        return false;
  return true;
}

/// Returns the table and positions behind `operand` of `user`: a
/// [B, 1, T, D] broadcast over heads (map (d0, 0, d2, d3)) of rows of a
/// constant [P, D] table gathered by a [B, T] integer tensor.
static std::optional<GatheredTable> matchGatheredTable(linalg::GenericOp user,
                                                       OpOperand *operand) {
  MLIRContext *context = user.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(context, d0, d1, d2, d3);
  AffineMap broadcast = AffineMap::get(
      4, 0, {d0, getAffineConstantExpr(0, context), d2, d3}, context);
  if (user.getMatchingIndexingMap(operand) != broadcast)
    return std::nullopt;

  auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getReassociationIndices() !=
                     SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}})
    return std::nullopt;
  auto gather = expand.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(gather) || gather.getNumDpsInputs() != 1 ||
      gather.getNumLoops() != 3 ||
      gather.getIndexingMapsArray()[0] !=
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
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.filter = [&](Operation *op) {
    return op->getBlock() == gather.getBody();
  };
  Value argument = gather.getBody()->getArgument(0);
  (void)getBackwardSlice(extract.getIndices()[0], &slice, options);
  bool readsPosition = extract.getIndices()[0] == argument ||
                       llvm::any_of(slice, [&](Operation *op) {
                         return llvm::is_contained(op->getOperands(), argument);
                       });
  if (!readsPosition || !hasRepeatedHalves(extract.getTensor()))
    return std::nullopt;
  return GatheredTable{extract.getTensor(), positions};
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
        std::optional<GatheredTable> cos =
            matchGatheredTable(directProduct, cosOperand);
        std::optional<GatheredTable> sin =
            matchGatheredTable(rotatedProduct, sinOperand);
        if (!cos || !sin)
          return rewriter.notifyMatchFailure(
              add, "expected cos and sin gathered from constant tables whose "
                   "rows repeat their first half");
        if (cos->positions != sin->positions)
          return rewriter.notifyMatchFailure(
              add, "expected cos and sin gathered by the same position ids");

        Location loc = add.getLoc();
        rewriter.setInsertionPoint(add);
        Value cosTable = sliceFirstHalf(rewriter, loc, cos->table);
        Value sinTable = sliceFirstHalf(rewriter, loc, sin->table);
        int64_t rotaryDim = cast<ShapedType>(input.getType()).getShape().back();
        auto rotary = RotaryOp::create(
            rewriter, loc, input.getType(), input, cos->positions, cosTable,
            sinTable, rewriter.getF64FloatAttr(10000.0),
            rewriter.getI64IntegerAttr(rotaryDim), /*interleaved=*/UnitAttr());
        LDBG() << "fused rotate-half RoPE at " << loc;
        rewriter.replaceOp(add, rotary->getResults());
        return rotary;
      }
    }
  }
  // TODO: interleaved RoPE and cos/sin computed from positions and inverse
  // frequencies (theta) are not matched yet.
  return rewriter.notifyMatchFailure(
      add, "expected x * cos + concat(-x[..., h:], x[..., :h]) * sin");
}

namespace {

struct FuseRotaryPattern : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    return fuseRotary(rewriter, op);
  }
};

} // namespace

void mlir::rill::populateFuseRotaryPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseRotaryPattern>(patterns.getContext());
}
