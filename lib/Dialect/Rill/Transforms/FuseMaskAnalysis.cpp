//===- FuseMaskAnalysis.cpp - Position analysis of attention masks -------===//
//
// Implements the symbolic evaluation behind mask recognition in
// rill-fuse-attention. An element of a tensor is described by the index it
// is read at, one linear expression per dimension. Stepping back through
// expand_shape, extract_slice and elementwise linalg.generic ops rewrites
// that index until the element is a linalg.index, an integer constant or a
// runtime scalar. Comparisons of two such positions give bounds on k - q.
//
//===----------------------------------------------------------------------===//

#include "FuseMaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rill;
using namespace mlir::rill::fusion;

/// Largest constant mask whose elements are inspected element by element.
static constexpr int64_t kMaxConstantMaskElements = 1 << 22;

/// Deepest chain of producers followed from one mask element.
static constexpr unsigned kMaxDepth = 24;

//===----------------------------------------------------------------------===//
// PositionExpr arithmetic
//===----------------------------------------------------------------------===//

PositionExpr PositionExpr::getConstant(int64_t value) {
  PositionExpr expr;
  expr.constant = value;
  return expr;
}

PositionExpr PositionExpr::getDim(unsigned dim) {
  PositionExpr expr;
  expr.coeffs[dim] = 1;
  return expr;
}

bool PositionExpr::isConstant() const {
  return dynamicCoeff == 0 &&
         llvm::all_of(coeffs, [](int64_t coeff) { return coeff == 0; });
}

static FailureOr<PositionExpr> add(const PositionExpr &lhs,
                                   const PositionExpr &rhs, int64_t rhsSign) {
  PositionExpr result = lhs;
  for (unsigned dim = 0; dim < kScoreRank; ++dim)
    result.coeffs[dim] += rhsSign * rhs.coeffs[dim];
  result.constant += rhsSign * rhs.constant;
  if (rhs.dynamicCoeff != 0) {
    if (result.dynamicCoeff != 0 && result.dynamic != rhs.dynamic)
      return failure();
    result.dynamic = rhs.dynamic;
    result.dynamicCoeff += rhsSign * rhs.dynamicCoeff;
  }
  if (result.dynamicCoeff == 0)
    result.dynamic = Value();
  return result;
}

static PositionExpr scale(const PositionExpr &expr, int64_t factor) {
  PositionExpr result = expr;
  for (int64_t &coeff : result.coeffs)
    coeff *= factor;
  result.constant *= factor;
  result.dynamicCoeff *= factor;
  if (result.dynamicCoeff == 0)
    result.dynamic = Value();
  return result;
}

static FailureOr<PositionExpr> evaluateAffine(AffineExpr expr,
                                              ArrayRef<PositionExpr> dims) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return PositionExpr::getConstant(constant.getValue());
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return failure();
  FailureOr<PositionExpr> lhs = evaluateAffine(binary.getLHS(), dims);
  FailureOr<PositionExpr> rhs = evaluateAffine(binary.getRHS(), dims);
  if (failed(lhs) || failed(rhs))
    return failure();
  if (expr.getKind() == AffineExprKind::Add)
    return add(*lhs, *rhs, 1);
  if (expr.getKind() == AffineExprKind::Mul) {
    if (rhs->isConstant())
      return scale(*lhs, rhs->constant);
    if (lhs->isConstant())
      return scale(*rhs, lhs->constant);
  }
  return failure();
}

IndexExprs fusion::getScoreIndex() {
  IndexExprs index;
  for (unsigned dim = 0; dim < kScoreRank; ++dim)
    index.push_back(PositionExpr::getDim(dim));
  return index;
}

FailureOr<IndexExprs> fusion::composeIndex(AffineMap map,
                                           ArrayRef<PositionExpr> index) {
  IndexExprs result;
  for (AffineExpr expr : map.getResults()) {
    FailureOr<PositionExpr> value = evaluateAffine(expr, index);
    if (failed(value))
      return failure();
    result.push_back(*value);
  }
  return result;
}

FailureOr<AffineMap> fusion::getIndexMap(MLIRContext *context,
                                         ArrayRef<PositionExpr> index) {
  SmallVector<AffineExpr> results;
  for (const PositionExpr &expr : index) {
    if (expr.dynamicCoeff != 0)
      return failure();
    AffineExpr result = getAffineConstantExpr(expr.constant, context);
    for (unsigned dim = 0; dim < kScoreRank; ++dim)
      if (expr.coeffs[dim] != 0)
        result = result + getAffineDimExpr(dim, context) * expr.coeffs[dim];
    results.push_back(result);
  }
  return AffineMap::get(kScoreRank, 0, results, context);
}

//===----------------------------------------------------------------------===//
// Stepping back through shape and elementwise ops
//===----------------------------------------------------------------------===//

/// Returns the index into the source of `expand` that corresponds to
/// `index` into its result. Each reassociation group may hold one
/// dimension that is not a static 1.
static FailureOr<IndexExprs> stepThroughExpand(tensor::ExpandShapeOp expand,
                                               ArrayRef<PositionExpr> index) {
  ArrayRef<int64_t> resultShape = expand.getResultType().getShape();
  IndexExprs sourceIndex;
  for (const ReassociationIndices &group : expand.getReassociationIndices()) {
    std::optional<int64_t> kept;
    for (int64_t dim : group) {
      if (resultShape[dim] == 1)
        continue;
      if (kept)
        return failure();
      kept = dim;
    }
    sourceIndex.push_back(kept ? index[*kept] : PositionExpr::getConstant(0));
  }
  return sourceIndex;
}

/// Returns the index into the source of `slice` that corresponds to `index`
/// into its result. A dynamic offset becomes the runtime term.
static FailureOr<IndexExprs> stepThroughSlice(tensor::ExtractSliceOp slice,
                                              ArrayRef<PositionExpr> index) {
  if (slice.getSourceType().getRank() != slice.getResultType().getRank())
    return failure();
  IndexExprs sourceIndex;
  for (auto [position, offset, stride] :
       llvm::zip(index, slice.getMixedOffsets(), slice.getMixedStrides())) {
    std::optional<int64_t> staticStride = getConstantIntValue(stride);
    if (!staticStride)
      return failure();
    PositionExpr offsetExpr;
    if (std::optional<int64_t> staticOffset = getConstantIntValue(offset)) {
      offsetExpr = PositionExpr::getConstant(*staticOffset);
    } else {
      offsetExpr.dynamic = cast<Value>(offset);
      offsetExpr.dynamicCoeff = 1;
    }
    FailureOr<PositionExpr> sourcePosition =
        add(offsetExpr, scale(position, *staticStride), 1);
    if (failed(sourcePosition))
      return failure();
    sourceIndex.push_back(*sourcePosition);
  }
  return sourceIndex;
}

/// Returns true for a generic with one result, only parallel loops and an
/// identity indexing map on its result, so that loop `i` equals result
/// dimension `i`.
static bool isElementwiseGeneric(linalg::GenericOp generic) {
  return generic.getNumDpsInits() == 1 && generic->getNumResults() == 1 &&
         generic.getNumLoops() == generic.getNumParallelLoops() &&
         generic.getIndexingMapsArray().back().isIdentity();
}

static FailureOr<PositionExpr>
evaluateTensor(Value tensor, ArrayRef<PositionExpr> index, unsigned depth);

/// Evaluates the scalar `value` computed inside the body of `generic` at the
/// loop point `loops`.
static FailureOr<PositionExpr> evaluateScalar(Value value,
                                              linalg::GenericOp generic,
                                              ArrayRef<PositionExpr> loops,
                                              unsigned depth) {
  if (depth > kMaxDepth)
    return failure();

  if (auto argument = dyn_cast<BlockArgument>(value)) {
    if (argument.getOwner() != generic.getBody() ||
        argument.getArgNumber() >= generic.getNumDpsInputs())
      return failure();
    OpOperand *input = generic.getDpsInputOperand(argument.getArgNumber());
    FailureOr<IndexExprs> inputIndex =
        composeIndex(generic.getMatchingIndexingMap(input), loops);
    if (failed(inputIndex))
      return failure();
    return evaluateTensor(input->get(), *inputIndex, depth + 1);
  }

  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)))
    return PositionExpr::getConstant(constant.getSExtValue());

  Operation *op = value.getDefiningOp();
  if (!op)
    return failure();

  // A runtime scalar from outside the body, such as the past length.
  if (!generic->isProperAncestor(op)) {
    PositionExpr expr;
    expr.dynamic = value;
    expr.dynamicCoeff = 1;
    return expr;
  }

  if (auto index = dyn_cast<linalg::IndexOp>(op))
    return loops[index.getDim()];
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::TruncIOp>(op))
    return evaluateScalar(op->getOperand(0), generic, loops, depth + 1);
  if (isa<arith::AddIOp, arith::SubIOp, arith::MulIOp>(op)) {
    FailureOr<PositionExpr> lhs =
        evaluateScalar(op->getOperand(0), generic, loops, depth + 1);
    FailureOr<PositionExpr> rhs =
        evaluateScalar(op->getOperand(1), generic, loops, depth + 1);
    if (failed(lhs) || failed(rhs))
      return failure();
    if (isa<arith::AddIOp>(op))
      return add(*lhs, *rhs, 1);
    if (isa<arith::SubIOp>(op))
      return add(*lhs, *rhs, -1);
    if (rhs->isConstant())
      return scale(*lhs, rhs->constant);
    if (lhs->isConstant())
      return scale(*rhs, lhs->constant);
  }
  return failure();
}

/// Evaluates the element of the integer tensor `tensor` at `index`.
static FailureOr<PositionExpr>
evaluateTensor(Value tensor, ArrayRef<PositionExpr> index, unsigned depth) {
  if (depth > kMaxDepth)
    return failure();

  DenseIntElementsAttr constant;
  if (matchPattern(tensor, m_Constant(&constant)) && constant.isSplat())
    return PositionExpr::getConstant(
        constant.getSplatValue<APInt>().getSExtValue());

  Operation *op = tensor.getDefiningOp();
  if (!op)
    return failure();

  if (auto fromElements = dyn_cast<tensor::FromElementsOp>(op)) {
    if (fromElements.getElements().size() != 1)
      return failure();
    Value element = fromElements.getElements().front();
    APInt value;
    if (matchPattern(element, m_ConstantInt(&value)))
      return PositionExpr::getConstant(value.getSExtValue());
    PositionExpr expr;
    expr.dynamic = element;
    expr.dynamicCoeff = 1;
    return expr;
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    FailureOr<IndexExprs> sourceIndex = stepThroughExpand(expand, index);
    if (failed(sourceIndex))
      return failure();
    return evaluateTensor(expand.getSrc(), *sourceIndex, depth + 1);
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    FailureOr<IndexExprs> sourceIndex = stepThroughSlice(slice, index);
    if (failed(sourceIndex))
      return failure();
    return evaluateTensor(slice.getSource(), *sourceIndex, depth + 1);
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !isElementwiseGeneric(generic))
    return failure();
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  return evaluateScalar(yield.getOperand(0), generic, index, depth + 1);
}

//===----------------------------------------------------------------------===//
// Comparisons and bounds
//===----------------------------------------------------------------------===//

/// Intersects `bounds` with `more`. Fails when their offsets disagree.
static LogicalResult intersectBounds(PositionBounds &bounds,
                                     const PositionBounds &more) {
  auto mergeOffset = [](Value &offset, Value other) {
    if (!other)
      return success();
    if (offset && offset != other)
      return failure();
    offset = other;
    return success();
  };
  if (failed(mergeOffset(bounds.queryOffset, more.queryOffset)) ||
      failed(mergeOffset(bounds.keyOffset, more.keyOffset)))
    return failure();
  if (more.lower)
    bounds.lower =
        bounds.lower ? std::max(*bounds.lower, *more.lower) : *more.lower;
  if (more.upper)
    bounds.upper =
        bounds.upper ? std::min(*bounds.upper, *more.upper) : *more.upper;
  return success();
}

/// Returns the predicate `p'` with `a p b` equivalent to `b p' a`.
static arith::CmpIPredicate swapOperands(arith::CmpIPredicate predicate) {
  switch (predicate) {
  case arith::CmpIPredicate::slt:
    return arith::CmpIPredicate::sgt;
  case arith::CmpIPredicate::sle:
    return arith::CmpIPredicate::sge;
  case arith::CmpIPredicate::sgt:
    return arith::CmpIPredicate::slt;
  case arith::CmpIPredicate::sge:
    return arith::CmpIPredicate::sle;
  default:
    return predicate;
  }
}

/// Returns the bounds on `k - q` of `lhs <predicate> rhs`, where both sides
/// are positions along the query and key dimensions (d2 and d3).
static FailureOr<PositionBounds>
boundsFromComparison(arith::CmpIPredicate predicate, const PositionExpr &lhs,
                     const PositionExpr &rhs) {
  FailureOr<PositionExpr> difference = add(lhs, rhs, -1);
  if (failed(difference) || difference->coeffs[0] != 0 ||
      difference->coeffs[1] != 0)
    return failure();

  // Normalise to `(d3 - d2) + constant + dynamicCoeff * dynamic  <pred>  0`.
  PositionExpr expr = *difference;
  if (expr.coeffs[3] == -1 && expr.coeffs[2] == 1) {
    expr = scale(expr, -1);
    predicate = swapOperands(predicate);
  }
  if (expr.coeffs[3] != 1 || expr.coeffs[2] != -1)
    return failure();

  // Key position minus query position is (d3 - d2) + keyOffset - queryOffset,
  // so a runtime term with coefficient -1 is the query offset.
  PositionBounds bounds;
  if (expr.dynamicCoeff == -1)
    bounds.queryOffset = expr.dynamic;
  else if (expr.dynamicCoeff == 1)
    bounds.keyOffset = expr.dynamic;
  else if (expr.dynamicCoeff != 0)
    return failure();

  // (k - q) + c <pred> 0.
  int64_t c = expr.constant;
  switch (predicate) {
  case arith::CmpIPredicate::slt:
    bounds.upper = -c - 1;
    break;
  case arith::CmpIPredicate::sle:
    bounds.upper = -c;
    break;
  case arith::CmpIPredicate::sgt:
    bounds.lower = -c + 1;
    break;
  case arith::CmpIPredicate::sge:
    bounds.lower = -c;
    break;
  case arith::CmpIPredicate::eq:
    bounds.lower = -c;
    bounds.upper = -c;
    break;
  default:
    return failure();
  }
  return bounds;
}

static FailureOr<PositionBounds>
analyzeMask(Value mask, ArrayRef<PositionExpr> index, unsigned depth);

/// Analyses the i1 scalar `value` computed in the body of `generic`.
static FailureOr<PositionBounds> analyzeBoolScalar(Value value,
                                                   linalg::GenericOp generic,
                                                   ArrayRef<PositionExpr> loops,
                                                   unsigned depth) {
  if (depth > kMaxDepth)
    return failure();
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    if (argument.getOwner() != generic.getBody() ||
        argument.getArgNumber() >= generic.getNumDpsInputs())
      return failure();
    OpOperand *input = generic.getDpsInputOperand(argument.getArgNumber());
    FailureOr<IndexExprs> inputIndex =
        composeIndex(generic.getMatchingIndexingMap(input), loops);
    if (failed(inputIndex))
      return failure();
    return analyzeMask(input->get(), *inputIndex, depth + 1);
  }
  if (auto andOp = value.getDefiningOp<arith::AndIOp>()) {
    FailureOr<PositionBounds> lhs =
        analyzeBoolScalar(andOp.getLhs(), generic, loops, depth + 1);
    FailureOr<PositionBounds> rhs =
        analyzeBoolScalar(andOp.getRhs(), generic, loops, depth + 1);
    if (failed(lhs) || failed(rhs) || failed(intersectBounds(*lhs, *rhs)))
      return failure();
    return *lhs;
  }
  // select(c, t, false) with an always-true t is c, as Trilu of a boolean
  // tensor of ones imports.
  if (auto select = value.getDefiningOp<arith::SelectOp>()) {
    if (!matchPattern(select.getFalseValue(), m_Zero()))
      return failure();
    FailureOr<PositionBounds> kept =
        analyzeBoolScalar(select.getTrueValue(), generic, loops, depth + 1);
    if (failed(kept) || kept->lower || kept->upper)
      return failure();
    return analyzeBoolScalar(select.getCondition(), generic, loops, depth + 1);
  }
  if (matchPattern(value, m_One()))
    return PositionBounds();
  if (auto cmp = value.getDefiningOp<arith::CmpIOp>()) {
    FailureOr<PositionExpr> lhs =
        evaluateScalar(cmp.getLhs(), generic, loops, depth + 1);
    FailureOr<PositionExpr> rhs =
        evaluateScalar(cmp.getRhs(), generic, loops, depth + 1);
    if (failed(lhs) || failed(rhs))
      return failure();
    return boundsFromComparison(cmp.getPredicate(), *lhs, *rhs);
  }
  return failure();
}

/// Recognises a constant i1 matrix (up to unit dimensions) whose element
/// (r, c) is true exactly when `lower <= c - r <= upper` for some bounds,
/// and returns those bounds on the positions that `index` reads.
static FailureOr<PositionBounds>
analyzeConstantBand(DenseElementsAttr constant, ArrayRef<PositionExpr> index) {
  auto type = cast<ShapedType>(constant.getType());
  if (!type.getElementType().isInteger(1) ||
      type.getNumElements() > kMaxConstantMaskElements)
    return failure();

  SmallVector<unsigned> dims;
  for (auto [dim, size] : llvm::enumerate(type.getShape()))
    if (size != 1)
      dims.push_back(dim);
  if (dims.size() != 2)
    return failure();
  int64_t rows = type.getDimSize(dims[0]);
  int64_t columns = type.getDimSize(dims[1]);

  // Find the band from the element values, then check every element.
  SmallVector<bool> values(constant.getValues<bool>());
  std::optional<int64_t> lower, upper;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns; ++c)
      if (values[r * columns + c]) {
        lower = lower ? std::min(*lower, c - r) : c - r;
        upper = upper ? std::max(*upper, c - r) : c - r;
      }
  if (!lower)
    return failure();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns; ++c)
      if (values[r * columns + c] != (*lower <= c - r && c - r <= *upper))
        return failure();

  // A band that reaches the matrix corner bounds nothing on that side.
  PositionBounds bounds;
  if (*lower > -(rows - 1))
    bounds.lower = *lower;
  if (*upper < columns - 1)
    bounds.upper = *upper;
  FailureOr<PositionBounds> shifted = boundsFromComparison(
      arith::CmpIPredicate::eq, index[dims[1]], index[dims[0]]);
  // Reuse the normalisation of comparisons for the offsets only.
  if (failed(shifted))
    return failure();
  int64_t shift = *shifted->lower;
  if (bounds.lower)
    *bounds.lower += shift;
  if (bounds.upper)
    *bounds.upper += shift;
  bounds.queryOffset = shifted->queryOffset;
  bounds.keyOffset = shifted->keyOffset;
  return bounds;
}

static FailureOr<PositionBounds>
analyzeMask(Value mask, ArrayRef<PositionExpr> index, unsigned depth) {
  if (depth > kMaxDepth)
    return failure();

  DenseElementsAttr constant;
  if (matchPattern(mask, m_Constant(&constant))) {
    if (!constant.isSplat())
      return analyzeConstantBand(constant, index);
    // A tensor of ones (true) bounds nothing.
    if (constant.getElementType().isInteger(1) &&
        constant.getSplatValue<bool>())
      return PositionBounds();
    return failure();
  }

  Operation *op = mask.getDefiningOp();
  if (!op)
    return failure();
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    FailureOr<IndexExprs> sourceIndex = stepThroughExpand(expand, index);
    if (failed(sourceIndex))
      return failure();
    return analyzeMask(expand.getSrc(), *sourceIndex, depth + 1);
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    FailureOr<IndexExprs> sourceIndex = stepThroughSlice(slice, index);
    if (failed(sourceIndex))
      return failure();
    return analyzeMask(slice.getSource(), *sourceIndex, depth + 1);
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !isElementwiseGeneric(generic))
    return failure();
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  return analyzeBoolScalar(yield.getOperand(0), generic, index, depth + 1);
}

FailureOr<PositionBounds>
fusion::analyzePositionMask(Value mask, ArrayRef<PositionExpr> index) {
  return analyzeMask(mask, index, /*depth=*/0);
}

FailureOr<PositionBounds>
fusion::analyzePositionCondition(Value condition, Operation *generic,
                                 ArrayRef<PositionExpr> loops) {
  auto linalgGeneric = dyn_cast<linalg::GenericOp>(generic);
  if (!linalgGeneric || !isElementwiseGeneric(linalgGeneric))
    return failure();
  return analyzeBoolScalar(condition, linalgGeneric, loops, /*depth=*/0);
}

FailureOr<PositionBounds> fusion::negateBounds(const PositionBounds &bounds) {
  if (bounds.lower.has_value() == bounds.upper.has_value())
    return failure();
  PositionBounds negated = bounds;
  negated.lower.reset();
  negated.upper.reset();
  if (bounds.upper)
    negated.lower = *bounds.upper + 1;
  else
    negated.upper = *bounds.lower - 1;
  return negated;
}

StringRef fusion::findRuntimeInputName(Value value) {
  SmallVector<Value> worklist = {value};
  llvm::SmallPtrSet<Operation *, 32> visited;
  constexpr unsigned kMaxVisited = 512;
  while (!worklist.empty() && visited.size() < kMaxVisited) {
    Value current = worklist.pop_back_val();
    if (auto argument = dyn_cast<BlockArgument>(current)) {
      auto func =
          dyn_cast<FunctionOpInterface>(argument.getOwner()->getParentOp());
      if (!func || argument.getOwner() != &func.getFunctionBody().front())
        continue;
      if (auto name = func.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                        "rill.name"))
        return name.getValue();
      continue;
    }
    Operation *op = current.getDefiningOp();
    if (!op || !visited.insert(op).second)
      continue;
    llvm::append_range(worklist, op->getOperands());
  }
  return StringRef();
}
