//===- ModelCodegen.cpp - Register-blocked matrix products ----------------===//
//
// Lowers a model's matrix products to a register-blocked kernel written
// directly as loops over memrefs, the way rill-tile-attention lowers
// attention. A contraction `out[r..., n] = init[r..., n] + sum_k
// lhs[r..., k] * rhs[k, n]` with f32 elements and a static rhs (MatMul and
// Gemm without transB, as the ONNX importer writes them) becomes:
//
//   parallel over column blocks of columnVectors vectors, the leading row
//   dimensions and blocks of rowTile rows of the innermost row dimension:
//     acc[i][j] = init[row i, vector j of the block]
//     for k: w[j] = rhs[k, vector j]
//            acc[i][j] += broadcast(lhs[row i, k]) * w[j]
//     out[row i, vector j] = acc[i][j]
//
// The accumulators are loop-carried vectors, so they live in registers, and
// each reduction step costs one scalar broadcast per row and one vector
// load per column vector. Row remainders run the same block one row at a
// time. The column remainder is known at compile time, and its last vector
// is loaded and stored under a mask.
//
// A constant rhs (a weight) is repacked at compile time into panels of one
// column block, [N / block][K][block], padded with zeros: a block then
// reads one contiguous stream instead of K rows N elements apart. This is
// what a decode step needs, where one row meets every weight once and the
// product is bound by how fast the weights stream from memory. Blocks with
// fewer than minAccumulators accumulators (a single row) split the
// reduction into interleaved partial sums so that consecutive FMAs do not
// wait on each other's results.
//
// The schedule was first written with upstream tiling, vectorization and
// vector lowering patterns. The greedy driver did not terminate on those
// pattern sets (a vector.from_elements canonicalization cycle), so the
// kernel is built here, where every loop and vector is explicit.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/ModelCodegen/ModelCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// A contraction the kernel handles: loops (rows..., n, k) with
/// lhs (rows..., k), rhs (k, n) and out (rows..., n).
struct MatmulShape {
  unsigned numRowDims = 0;
  int64_t reduction = 0;
  int64_t columns = 0;
};

/// True if `op`'s body is `out + lhs * rhs` (in either operand order).
bool isMultiplyAccumulate(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues().front().getDefiningOp<arith::AddFOp>();
  if (!add || body->getOperations().size() != 3)
    return false;
  Value accumulator = body->getArgument(2);
  Value product = add.getLhs() == accumulator ? add.getRhs() : add.getLhs();
  if (add.getLhs() != accumulator && add.getRhs() != accumulator)
    return false;
  auto multiply = product.getDefiningOp<arith::MulFOp>();
  if (!multiply)
    return false;
  Value lhs = body->getArgument(0), rhs = body->getArgument(1);
  return (multiply.getLhs() == lhs && multiply.getRhs() == rhs) ||
         (multiply.getLhs() == rhs && multiply.getRhs() == lhs);
}

/// Returns the shape of `op` if the kernel can lower it.
std::optional<MatmulShape> matchMatmul(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getNumResults() != 1)
    return std::nullopt;
  unsigned numLoops = op.getNumLoops();
  if (numLoops < 3)
    return std::nullopt;
  unsigned numRowDims = numLoops - 2;
  unsigned column = numRowDims, reduction = numRowDims + 1;

  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (iterators[loop] != (loop == reduction
                                ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel))
      return std::nullopt;

  MLIRContext *context = op.getContext();
  SmallVector<AffineExpr> rows;
  for (unsigned dim = 0; dim < numRowDims; ++dim)
    rows.push_back(getAffineDimExpr(dim, context));
  auto withLast = [&](unsigned dim) {
    SmallVector<AffineExpr> results = rows;
    results.push_back(getAffineDimExpr(dim, context));
    return AffineMap::get(numLoops, 0, results, context);
  };
  AffineMap rhsMap = AffineMap::get(
      numLoops, 0,
      {getAffineDimExpr(reduction, context), getAffineDimExpr(column, context)},
      context);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != withLast(reduction) || maps[1] != rhsMap ||
      maps[2] != withLast(column))
    return std::nullopt;

  Type f32 = Float32Type::get(context);
  for (Value operand : op->getOperands())
    if (cast<ShapedType>(operand.getType()).getElementType() != f32)
      return std::nullopt;
  auto rhsType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  if (!rhsType.hasStaticShape() || !isMultiplyAccumulate(op))
    return std::nullopt;

  MatmulShape shape;
  shape.numRowDims = numRowDims;
  shape.reduction = rhsType.getDimSize(0);
  shape.columns = rhsType.getDimSize(1);
  return shape;
}

/// Returns the f32 elements of a constant, or nullopt when `value` is not
/// an f32 constant whose data is at hand.
std::optional<std::vector<float>> getConstantElements(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return std::nullopt;
  if (auto resource =
          dyn_cast<DenseF32ResourceElementsAttr>(constant.getValue())) {
    // A blob shorter or longer than its type (nothing checks that when the
    // IR is parsed) is left alone rather than read out of bounds.
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) !=
                     resource.getType().getNumElements())
      return std::nullopt;
    return std::vector<float>(data->begin(), data->end());
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  return std::nullopt;
}

/// Packs the constant K x N weight `rhs` into panels of `panelColumns`
/// columns, tensor<ceil(N / panelColumns) x K x panelColumns>, with the
/// last panel padded with zeros. A register block then streams one
/// contiguous panel instead of K rows that lie N elements apart, which
/// keeps the hardware prefetcher ahead in a decode step (one row times the
/// whole weight). Returns null when `rhs` is not a constant.
Value packConstantWeights(RewriterBase &b, Value rhs, int64_t panelColumns) {
  std::optional<std::vector<float>> elements = getConstantElements(rhs);
  if (!elements)
    return {};
  auto type = cast<RankedTensorType>(rhs.getType());
  int64_t rows = type.getDimSize(0), columns = type.getDimSize(1);
  int64_t panels = llvm::divideCeil(columns, panelColumns);
  int64_t panelSize = rows * panelColumns;
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
      panels * panelSize * sizeof(float), alignof(float) * 16);
  auto *packed = reinterpret_cast<float *>(blob.getMutableData().data());
  std::fill(packed, packed + panels * panelSize, 0.0f);
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n = 0; n < columns; ++n)
      packed[(n / panelColumns) * panelSize + k * panelColumns +
             n % panelColumns] = (*elements)[k * columns + n];

  auto packedType =
      RankedTensorType::get({panels, rows, panelColumns}, b.getF32Type());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(rhs);
  auto attr = DenseResourceElementsAttr::get(packedType, "rill_packed_weight",
                                             std::move(blob));
  return arith::ConstantOp::create(b, rhs.getLoc(), attr);
}

/// Emits the loop nest of one matrix product before the op.
class MatmulKernelBuilder {
public:
  /// `packedRhs` is the right-hand side packed by packConstantWeights into
  /// panels
  /// of one column block each, or null to read the K x N operand.
  MatmulKernelBuilder(RewriterBase &rewriter, linalg::LinalgOp op,
                      const MatmulShape &shape,
                      const ModelCodegenOptions &options, Value packedRhs)
      : b(rewriter), loc(op.getLoc()), op(op), shape(shape), options(options),
        packedRhs(packedRhs) {}

  Value build();

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  VectorType vectorType() {
    return VectorType::get({options.vectorWidth}, b.getF32Type());
  }
  Value toBuffer(Value tensor);
  /// Emits `scf.if condition` whose branches run `thenBody` and `elseBody`
  /// at the builder's insertion point.
  void buildIfElse(Value condition, function_ref<void()> thenBody,
                   function_ref<void()> elseBody);

  /// Emits one block of `numRows` rows from `rowStart` and `numVectors`
  /// column vectors of column block `columnBlock`; the last vector has
  /// `lastLanes` valid lanes.
  void buildBlock(ArrayRef<Value> outerRows, Value rowStart, int64_t numRows,
                  Value columnBlock, int64_t numVectors, int64_t lastLanes);
  /// Emits the blocks of one column block: full row blocks, or the
  /// remaining rows one by one.
  void buildColumnBlock(ArrayRef<Value> outerRows, Value rowBlock,
                        Value columnBlock, int64_t numVectors,
                        int64_t lastLanes);
  /// Emits the reduction over k in [lower, upper) of a block, in `splits`
  /// interleaved partial sums per accumulator (k, k + 1, ... k + splits - 1
  /// go to different partial sums); returns the summed accumulators.
  SmallVector<Value> buildReduction(ArrayRef<Value> accumulators,
                                    int64_t lower, int64_t upper,
                                    int64_t splits,
                                    function_ref<Value(Value, int64_t)> row,
                                    function_ref<Value(Value, int64_t)> weight,
                                    int64_t blockRows, int64_t numVectors);

  Value loadVector(Value memref, SmallVector<Value> indices, int64_t lanes);
  void storeVector(Value vector, Value memref, SmallVector<Value> indices,
                   int64_t lanes);

  RewriterBase &b;
  Location loc;
  linalg::LinalgOp op;
  MatmulShape shape;
  const ModelCodegenOptions &options;
  Value packedRhs;

  Value lhs, rhs, init, output;
  Value numRows;
};

// Operands become identity-layout buffers, because bufferization cannot
// allocate a copy with dynamic strides. A tensor whose buffer is strided
// differently (a slice with steps) is copied into a fresh buffer.
Value MatmulKernelBuilder::toBuffer(Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                           b.getUnitAttr());
}

void MatmulKernelBuilder::buildIfElse(Value condition,
                                      function_ref<void()> thenBody,
                                      function_ref<void()> elseBody) {
  auto branch = [&](function_ref<void()> body) {
    return [&, body](OpBuilder &nested, Location) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(nested.getInsertionBlock(),
                          nested.getInsertionPoint());
      body();
      scf::YieldOp::create(b, loc);
    };
  };
  scf::IfOp::create(b, loc, condition, branch(thenBody), branch(elseBody));
}

Value MatmulKernelBuilder::loadVector(Value memref, SmallVector<Value> indices,
                                      int64_t lanes) {
  if (lanes == options.vectorWidth)
    return vector::LoadOp::create(b, loc, vectorType(), memref, indices);
  Value mask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({options.vectorWidth}, b.getI1Type()),
      ValueRange{index(lanes)});
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
  return vector::MaskedLoadOp::create(b, loc, vectorType(), memref, indices,
                                      mask, zeros);
}

void MatmulKernelBuilder::storeVector(Value vector, Value memref,
                                      SmallVector<Value> indices,
                                      int64_t lanes) {
  if (lanes == options.vectorWidth) {
    vector::StoreOp::create(b, loc, vector, memref, indices);
    return;
  }
  Value mask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({options.vectorWidth}, b.getI1Type()),
      ValueRange{index(lanes)});
  vector::MaskedStoreOp::create(b, loc, memref, indices, mask, vector);
}

SmallVector<Value> MatmulKernelBuilder::buildReduction(
    ArrayRef<Value> accumulators, int64_t lower, int64_t upper,
    int64_t splits, function_ref<Value(Value, int64_t)> row,
    function_ref<Value(Value, int64_t)> weight, int64_t blockRows,
    int64_t numVectors) {
  // Partial sum 0 continues the accumulators, and the others start at zero.
  auto count = static_cast<int64_t>(accumulators.size());
  SmallVector<Value> initial(accumulators);
  if (splits > 1) {
    Value zeros = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
    initial.append((splits - 1) * count, zeros);
  }
  auto loop = scf::ForOp::create(
      b, loc, index(lower), index(upper), index(splits), initial,
      [&](OpBuilder &nested, Location, Value k, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> updated;
        for (int64_t split = 0; split < splits; ++split) {
          Value step =
              split == 0 ? k : arith::AddIOp::create(b, loc, k, index(split));
          SmallVector<Value> weights;
          for (int64_t vector = 0; vector < numVectors; ++vector)
            weights.push_back(weight(step, vector));
          for (int64_t r = 0; r < blockRows; ++r) {
            Value broadcast =
                vector::BroadcastOp::create(b, loc, vectorType(), row(step, r));
            for (int64_t vector = 0; vector < numVectors; ++vector)
              updated.push_back(vector::FMAOp::create(
                  b, loc, broadcast, weights[vector],
                  carried[split * count + r * numVectors + vector]));
          }
        }
        scf::YieldOp::create(b, loc, updated);
      });

  SmallVector<Value> sums(loop.getResults().take_front(count));
  for (int64_t split = 1; split < splits; ++split)
    for (int64_t i = 0; i < count; ++i)
      sums[i] = arith::AddFOp::create(b, loc, sums[i],
                                      loop.getResult(split * count + i));
  return sums;
}

void MatmulKernelBuilder::buildBlock(ArrayRef<Value> outerRows, Value rowStart,
                                     int64_t blockRows, Value columnBlock,
                                     int64_t numVectors, int64_t lastLanes) {
  int64_t width = options.vectorWidth;
  auto lanesOf = [&](int64_t vector) {
    return vector + 1 == numVectors ? lastLanes : width;
  };
  auto rowIndices = [&](int64_t row, Value last) {
    SmallVector<Value> indices(outerRows);
    indices.push_back(arith::AddIOp::create(b, loc, rowStart, index(row)));
    indices.push_back(last);
    return indices;
  };
  Value columnStart = arith::MulIOp::create(
      b, loc, columnBlock, index(options.columnVectors * width));
  auto column = [&](int64_t vector) {
    return arith::AddIOp::create(b, loc, columnStart, index(vector * width))
        .getResult();
  };
  auto row = [&](Value k, int64_t r) -> Value {
    return memref::LoadOp::create(b, loc, lhs, rowIndices(r, k));
  };
  // A packed panel is padded to whole vectors, so its loads need no mask.
  auto weight = [&](Value k, int64_t vector) -> Value {
    if (packedRhs)
      return vector::LoadOp::create(b, loc, vectorType(), rhs,
                                    {columnBlock, k, index(vector * width)});
    return loadVector(rhs, {k, column(vector)}, lanesOf(vector));
  };

  // Accumulators start from the init operand (zeros or a Gemm bias).
  SmallVector<Value> accumulators;
  for (int64_t r = 0; r < blockRows; ++r)
    for (int64_t vector = 0; vector < numVectors; ++vector)
      accumulators.push_back(
          loadVector(init, rowIndices(r, column(vector)), lanesOf(vector)));

  // A block with few accumulators (one row of a decode step) would wait on
  // the FMA latency of each; it keeps several partial sums instead.
  int64_t splits = 1;
  int64_t count = blockRows * numVectors;
  if (count < options.minAccumulators)
    splits = std::max<int64_t>(1, options.minAccumulators / count);
  int64_t splitEnd = splits > 1 ? shape.reduction / splits * splits : 0;
  if (splitEnd > 0)
    accumulators = buildReduction(accumulators, 0, splitEnd, splits, row,
                                  weight, blockRows, numVectors);
  if (splitEnd < shape.reduction)
    accumulators = buildReduction(accumulators, splitEnd, shape.reduction, 1,
                                  row, weight, blockRows, numVectors);

  for (int64_t r = 0; r < blockRows; ++r)
    for (int64_t vector = 0; vector < numVectors; ++vector)
      storeVector(accumulators[r * numVectors + vector], output,
                  rowIndices(r, column(vector)), lanesOf(vector));
}

void MatmulKernelBuilder::buildColumnBlock(ArrayRef<Value> outerRows,
                                           Value rowBlock, Value columnBlock,
                                           int64_t numVectors,
                                           int64_t lastLanes) {
  int64_t rowTile = options.rowTile;
  Value rowStart = arith::MulIOp::create(b, loc, rowBlock, index(rowTile));
  Value rowEnd = arith::MinSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, rowStart, index(rowTile)),
      numRows);
  Value isFull = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::SubIOp::create(b, loc, rowEnd, rowStart), index(rowTile));
  buildIfElse(
      isFull,
      [&] {
        buildBlock(outerRows, rowStart, rowTile, columnBlock, numVectors,
                   lastLanes);
      },
      [&] {
        scf::ForOp::create(
            b, loc, rowStart, rowEnd, index(1), ValueRange{},
            [&](OpBuilder &inner, Location, Value row, ValueRange) {
              OpBuilder::InsertionGuard innerGuard(b);
              b.setInsertionPoint(inner.getInsertionBlock(),
                                  inner.getInsertionPoint());
              buildBlock(outerRows, row, 1, columnBlock, numVectors,
                         lastLanes);
              scf::YieldOp::create(b, loc);
            });
      });
}

Value MatmulKernelBuilder::build() {
  lhs = toBuffer(op.getDpsInputs()[0]);
  rhs = toBuffer(packedRhs ? packedRhs : op.getDpsInputs()[1]);
  Value initTensor = op.getDpsInits()[0];
  init = toBuffer(initTensor);

  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<Value> dynamicSizes, rowSizes;
  for (int64_t dimension = 0; dimension < resultType.getRank(); ++dimension) {
    Value size =
        tensor::DimOp::create(b, loc, initTensor, dimension).getResult();
    if (resultType.isDynamicDim(dimension))
      dynamicSizes.push_back(size);
    if (dimension < shape.numRowDims)
      rowSizes.push_back(size);
  }
  output = memref::AllocOp::create(
      b, loc,
      MemRefType::get(resultType.getShape(), resultType.getElementType()),
      dynamicSizes, b.getI64IntegerAttr(64));
  numRows = rowSizes.back();

  int64_t width = options.vectorWidth;
  int64_t blockColumns = options.columnVectors * width;
  int64_t fullColumnBlocks = shape.columns / blockColumns;
  int64_t tailColumns = shape.columns % blockColumns;
  int64_t numColumnBlocks = fullColumnBlocks + (tailColumns ? 1 : 0);

  // Parallel over the column blocks, the outer row dimensions and the row
  // blocks; every iteration writes its own part of the output. Column
  // blocks come first, so that consecutive iterations of one thread reuse
  // the block's weights from cache.
  SmallVector<Value> lowerBounds, upperBounds, steps;
  upperBounds.push_back(index(numColumnBlocks));
  for (unsigned dimension = 0; dimension + 1 < shape.numRowDims; ++dimension)
    upperBounds.push_back(rowSizes[dimension]);
  upperBounds.push_back(arith::CeilDivSIOp::create(b, loc, numRows,
                                                   index(options.rowTile)));
  lowerBounds.assign(upperBounds.size(), index(0));
  steps.assign(upperBounds.size(), index(1));

  auto buildBody = [&](ValueRange ivs) {
    Value columnBlock = ivs.front();
    SmallVector<Value> outerRows(ivs.drop_front().drop_back());
    Value rowBlock = ivs.back();
    auto fullBlock = [&] {
      buildColumnBlock(outerRows, rowBlock, columnBlock,
                       options.columnVectors, width);
    };
    auto tailBlock = [&] {
      int64_t vectors = llvm::divideCeil(tailColumns, width);
      int64_t lastLanes = tailColumns - (vectors - 1) * width;
      buildColumnBlock(outerRows, rowBlock, columnBlock, vectors, lastLanes);
    };
    if (tailColumns == 0)
      return fullBlock();
    if (fullColumnBlocks == 0)
      return tailBlock();
    Value isFull =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, columnBlock,
                              index(fullColumnBlocks));
    buildIfElse(isFull, fullBlock, tailBlock);
  };

  auto buildSequential = [&] {
    scf::LoopNest nest =
        scf::buildLoopNest(b, loc, lowerBounds, upperBounds, steps);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nest.loops.back().getBody()->getTerminator());
    SmallVector<Value> ivs;
    for (scf::ForOp loop : nest.loops)
      ivs.push_back(loop.getInductionVar());
    buildBody(ivs);
  };
  auto buildParallel = [&] {
    auto parallel =
        scf::ParallelOp::create(b, loc, lowerBounds, upperBounds, steps);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(parallel.getBody());
    buildBody(parallel.getInductionVars());
  };
  if (!options.parallel) {
    buildSequential();
  } else if (shape.reduction * shape.columns >= options.parallelThreshold) {
    // One row is enough work for the parallel loop, so only that is emitted.
    buildParallel();
  } else {
    // Small products (a decode step of a small model) cost less than
    // starting a parallel region: they run sequentially.
    Value work = arith::MulIOp::create(
        b, loc, numRows, index(shape.reduction * shape.columns));
    for (unsigned dimension = 0; dimension + 1 < shape.numRowDims; ++dimension)
      work = arith::MulIOp::create(b, loc, work, rowSizes[dimension]);
    Value isLarge =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, work,
                              index(options.parallelThreshold));
    buildIfElse(isLarge, buildParallel, buildSequential);
  }

  return bufferization::ToTensorOp::create(b, loc, resultType, output,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

struct ModelCodegenPass
    : public PassWrapper<ModelCodegenPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ModelCodegenPass)

  ModelCodegenPass() = default;
  ModelCodegenPass(const ModelCodegenPass &other) : PassWrapper(other) {}
  explicit ModelCodegenPass(const ModelCodegenOptions &options) {
    rowTile = options.rowTile;
    columnVectors = options.columnVectors;
    vectorWidth = options.vectorWidth;
    parallel = options.parallel;
    parallelThreshold = options.parallelThreshold;
    minAccumulators = options.minAccumulators;
    packWeights = options.packWeights;
  }

  StringRef getArgument() const override { return "rill-model-codegen"; }
  StringRef getDescription() const override {
    return "Lower f32 matrix products with a static right-hand side to "
           "register-blocked vector loops";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                    memref::MemRefDialect, scf::SCFDialect,
                    tensor::TensorDialect, vector::VectorDialect>();
  }

  void runOnOperation() override {
    ModelCodegenOptions options;
    options.rowTile = rowTile;
    options.columnVectors = columnVectors;
    options.vectorWidth = vectorWidth;
    options.parallel = parallel;
    options.parallelThreshold = parallelThreshold;
    options.minAccumulators = minAccumulators;
    options.packWeights = packWeights;
    // The block is unrolled into rowTile x columnVectors accumulators, so
    // it must stay small enough to live in registers.
    // Each factor is bounded before the product, which could overflow.
    if (rowTile < 1 || columnVectors < 1 || vectorWidth < 1 || rowTile > 64 ||
        columnVectors > 64 || rowTile * columnVectors > 64 || vectorWidth > 64 ||
        minAccumulators < 1 || minAccumulators > 64) {
      getOperation()->emitError()
          << "rill-model-codegen: invalid block (row-tile "
          << static_cast<int64_t>(rowTile) << ", column-vectors "
          << static_cast<int64_t>(columnVectors) << ", vector-width "
          << static_cast<int64_t>(vectorWidth) << ", min-accumulators "
          << static_cast<int64_t>(minAccumulators)
          << "); expected positive values with row-tile x column-vectors "
             "<= 64, vector-width <= 64 and min-accumulators <= 64";
      return signalPassFailure();
    }

    SmallVector<std::pair<linalg::LinalgOp, MatmulShape>> matmuls;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<MatmulShape> shape = matchMatmul(op))
        matmuls.push_back({op, *shape});
    });
    IRRewriter rewriter(&getContext());
    // Products that share a weight share its packed copy.
    DenseMap<Value, Value> packedWeights;
    for (auto &[op, shape] : matmuls) {
      Value packedRhs;
      if (packWeights) {
        Value rhs = op.getDpsInputs()[1];
        auto [it, inserted] = packedWeights.try_emplace(rhs);
        if (inserted)
          it->second = packConstantWeights(rewriter, rhs,
                                           columnVectors * vectorWidth);
        packedRhs = it->second;
      }
      rewriter.setInsertionPoint(op);
      Value result =
          MatmulKernelBuilder(rewriter, op, shape, options, packedRhs).build();
      rewriter.replaceOp(op, result);
    }
  }

  Option<int64_t> rowTile{*this, "row-tile",
                          llvm::cl::desc("Output rows per register block"),
                          llvm::cl::init(ModelCodegenOptions().rowTile)};
  Option<int64_t> columnVectors{
      *this, "column-vectors",
      llvm::cl::desc("Output vectors per row of a register block"),
      llvm::cl::init(ModelCodegenOptions().columnVectors)};
  Option<int64_t> vectorWidth{
      *this, "vector-width", llvm::cl::desc("f32 lanes per vector"),
      llvm::cl::init(ModelCodegenOptions().vectorWidth)};
  Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Emit scf.parallel over row and column blocks (OpenMP "
                     "in rill-cpu-pipeline)"),
      llvm::cl::init(ModelCodegenOptions().parallel)};
  Option<int64_t> parallelThreshold{
      *this, "parallel-threshold",
      llvm::cl::desc("Multiply-adds below which a product runs sequentially "
                     "even with parallel=true"),
      llvm::cl::init(ModelCodegenOptions().parallelThreshold)};
  Option<int64_t> minAccumulators{
      *this, "min-accumulators",
      llvm::cl::desc("Accumulator vectors a register block keeps at least; "
                     "smaller blocks (one row) split the reduction into "
                     "partial sums to reach it"),
      llvm::cl::init(ModelCodegenOptions().minAccumulators)};
  Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("Repack constant weights into contiguous panels of one "
                     "column block each"),
      llvm::cl::init(ModelCodegenOptions().packWeights)};
};

} // namespace

void mlir::rill::addModelCodegenPasses(OpPassManager &pm,
                                       const ModelCodegenOptions &options) {
  pm.addNestedPass<func::FuncOp>(std::make_unique<ModelCodegenPass>(options));
}

void mlir::rill::registerModelCodegenPass() {
  PassRegistration<ModelCodegenPass>();
}
