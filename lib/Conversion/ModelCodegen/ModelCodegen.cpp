//===- ModelCodegen.cpp - Register-blocked matrix products ----------------===//
//
// Lowers a model's matrix products to a register-blocked kernel written
// directly as loops over memrefs, the way rill-tile-attention lowers
// attention. A contraction `out[r..., n] = init[r..., n] + sum_k
// lhs[r..., k] * rhs[k, n]` with f32 elements and a static rhs (MatMul and
// Gemm without transB, as the ONNX importer writes them) becomes:
//
//   parallel over the leading row dimensions, blocks of rowTile rows of
//   the innermost row dimension and blocks of columnVectors vectors of
//   columns:
//     acc[i][j] = init[row i, vector j of the block]
//     for k: w[j] = rhs[k, vector j]; acc[i][j] += broadcast(lhs[row i, k]) * w[j]
//     out[row i, vector j] = acc[i][j]
//
// The accumulators are loop-carried vectors, so they live in registers, and
// each reduction step costs one scalar broadcast per row and one vector
// load per column vector. Row remainders run the same block one row at a
// time. The column remainder is known at compile time, and its last vector
// is loaded and stored under a mask.
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
  shape.columns = rhsType.getDimSize(1);
  return shape;
}

/// Emits the loop nest of one matrix product before the op.
class MatmulKernelBuilder {
public:
  MatmulKernelBuilder(RewriterBase &rewriter, linalg::LinalgOp op,
                      const MatmulShape &shape,
                      const ModelCodegenOptions &options)
      : b(rewriter), loc(op.getLoc()), op(op), shape(shape),
        options(options) {}

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
  /// column vectors from `columnStart`; the last vector has `lastLanes`
  /// valid lanes.
  void buildBlock(ArrayRef<Value> outerRows, Value rowStart, int64_t numRows,
                  Value columnStart, int64_t numVectors, int64_t lastLanes);
  /// Emits the blocks of one column block: full row blocks, or the
  /// remaining rows one by one.
  void buildColumnBlock(ArrayRef<Value> outerRows, Value rowBlock,
                        Value columnStart, int64_t numVectors,
                        int64_t lastLanes);

  Value loadVector(Value memref, SmallVector<Value> indices, int64_t lanes);
  void storeVector(Value vector, Value memref, SmallVector<Value> indices,
                   int64_t lanes);

  RewriterBase &b;
  Location loc;
  linalg::LinalgOp op;
  MatmulShape shape;
  const ModelCodegenOptions &options;

  Value lhs, rhs, init, output;
  Value numRows, reduction;
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

void MatmulKernelBuilder::buildBlock(ArrayRef<Value> outerRows, Value rowStart,
                                     int64_t blockRows, Value columnStart,
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
  auto column = [&](int64_t vector) {
    return arith::AddIOp::create(b, loc, columnStart, index(vector * width))
        .getResult();
  };

  // Accumulators start from the init operand (zeros or a Gemm bias).
  SmallVector<Value> accumulators;
  for (int64_t row = 0; row < blockRows; ++row)
    for (int64_t vector = 0; vector < numVectors; ++vector)
      accumulators.push_back(
          loadVector(init, rowIndices(row, column(vector)), lanesOf(vector)));

  auto loop = scf::ForOp::create(
      b, loc, index(0), reduction, index(1), accumulators,
      [&](OpBuilder &nested, Location, Value k, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> weights;
        for (int64_t vector = 0; vector < numVectors; ++vector)
          weights.push_back(
              loadVector(rhs, {k, column(vector)}, lanesOf(vector)));
        SmallVector<Value> updated;
        for (int64_t row = 0; row < blockRows; ++row) {
          Value element =
              memref::LoadOp::create(b, loc, lhs, rowIndices(row, k));
          Value broadcast =
              vector::BroadcastOp::create(b, loc, vectorType(), element);
          for (int64_t vector = 0; vector < numVectors; ++vector)
            updated.push_back(vector::FMAOp::create(
                b, loc, broadcast, weights[vector],
                carried[row * numVectors + vector]));
        }
        scf::YieldOp::create(b, loc, updated);
      });

  for (int64_t row = 0; row < blockRows; ++row)
    for (int64_t vector = 0; vector < numVectors; ++vector)
      storeVector(loop.getResult(row * numVectors + vector), output,
                  rowIndices(row, column(vector)), lanesOf(vector));
}

void MatmulKernelBuilder::buildColumnBlock(ArrayRef<Value> outerRows,
                                           Value rowBlock, Value columnStart,
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
        buildBlock(outerRows, rowStart, rowTile, columnStart, numVectors,
                   lastLanes);
      },
      [&] {
        scf::ForOp::create(
            b, loc, rowStart, rowEnd, index(1), ValueRange{},
            [&](OpBuilder &inner, Location, Value row, ValueRange) {
              OpBuilder::InsertionGuard innerGuard(b);
              b.setInsertionPoint(inner.getInsertionBlock(),
                                  inner.getInsertionPoint());
              buildBlock(outerRows, row, 1, columnStart, numVectors,
                         lastLanes);
              scf::YieldOp::create(b, loc);
            });
      });
}

Value MatmulKernelBuilder::build() {
  lhs = toBuffer(op.getDpsInputs()[0]);
  rhs = toBuffer(op.getDpsInputs()[1]);
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
  reduction = memref::DimOp::create(b, loc, rhs, 0);

  int64_t width = options.vectorWidth;
  int64_t blockColumns = options.columnVectors * width;
  int64_t fullColumnBlocks = shape.columns / blockColumns;
  int64_t tailColumns = shape.columns % blockColumns;
  int64_t numColumnBlocks = fullColumnBlocks + (tailColumns ? 1 : 0);

  // Parallel over the outer row dimensions, the row blocks and the column
  // blocks; every iteration writes its own part of the output.
  SmallVector<Value> lowerBounds, upperBounds, steps;
  for (unsigned dimension = 0; dimension + 1 < shape.numRowDims; ++dimension)
    upperBounds.push_back(rowSizes[dimension]);
  upperBounds.push_back(arith::CeilDivSIOp::create(b, loc, numRows,
                                                   index(options.rowTile)));
  upperBounds.push_back(index(numColumnBlocks));
  lowerBounds.assign(upperBounds.size(), index(0));
  steps.assign(upperBounds.size(), index(1));

  auto buildBody = [&](ValueRange ivs) {
    SmallVector<Value> outerRows(ivs.drop_back(2));
    Value rowBlock = ivs[ivs.size() - 2];
    Value columnBlock = ivs.back();
    Value columnStart =
        arith::MulIOp::create(b, loc, columnBlock, index(blockColumns));
    auto fullBlock = [&] {
      buildColumnBlock(outerRows, rowBlock, columnStart,
                       options.columnVectors, width);
    };
    auto tailBlock = [&] {
      int64_t vectors = llvm::divideCeil(tailColumns, width);
      int64_t lastLanes = tailColumns - (vectors - 1) * width;
      buildColumnBlock(outerRows, rowBlock, columnStart, vectors, lastLanes);
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
  if (!options.parallel) {
    buildSequential();
  } else {
    // Small products (a decode step of a small model) cost less than
    // starting a parallel region: they run sequentially.
    Value work = arith::MulIOp::create(
        b, loc, arith::MulIOp::create(b, loc, numRows, reduction),
        index(shape.columns));
    for (unsigned dimension = 0; dimension + 1 < shape.numRowDims; ++dimension)
      work = arith::MulIOp::create(b, loc, work, rowSizes[dimension]);
    Value isLarge =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, work,
                              index(options.parallelThreshold));
    auto buildParallel = [&] {
      auto parallel =
          scf::ParallelOp::create(b, loc, lowerBounds, upperBounds, steps);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(parallel.getBody());
      buildBody(parallel.getInductionVars());
    };
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
    // The block is unrolled into rowTile x columnVectors accumulators, so
    // it must stay small enough to live in registers.
    if (rowTile < 1 || columnVectors < 1 || vectorWidth < 1 ||
        rowTile * columnVectors > 64 || vectorWidth > 64) {
      getOperation()->emitError()
          << "rill-model-codegen: invalid block (row-tile "
          << static_cast<int64_t>(rowTile) << ", column-vectors "
          << static_cast<int64_t>(columnVectors) << ", vector-width "
          << static_cast<int64_t>(vectorWidth)
          << "); expected positive values with row-tile x column-vectors "
             "<= 64 and vector-width <= 64";
      return signalPassFailure();
    }

    SmallVector<std::pair<linalg::LinalgOp, MatmulShape>> matmuls;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<MatmulShape> shape = matchMatmul(op))
        matmuls.push_back({op, *shape});
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, shape] : matmuls) {
      rewriter.setInsertionPoint(op);
      Value result = MatmulKernelBuilder(rewriter, op, shape, options).build();
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
};

} // namespace

void mlir::rill::addModelCodegenPasses(OpPassManager &pm,
                                       const ModelCodegenOptions &options) {
  pm.addNestedPass<func::FuncOp>(std::make_unique<ModelCodegenPass>(options));
}

void mlir::rill::registerModelCodegenPass() {
  PassRegistration<ModelCodegenPass>();
}
