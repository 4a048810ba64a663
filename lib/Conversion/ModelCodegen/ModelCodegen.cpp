//===- ModelCodegen.cpp - Register-blocked matrix products ----------------===//
//
// Implements the tensor-level code generation of a model's matrix products.
// Every contraction whose output and right-hand operand keep the column
// dimension innermost (MatMul and Gemm without transB as the ONNX importer
// writes them) is tiled into rowTile x columnTile register blocks with a
// reduction step of reductionTile, the partial tiles are peeled off (row
// remainders are re-tiled one row at a time), the static tiles are
// vectorized to vector.contract, the accumulator block is hoisted out of
// the reduction loop, and the contraction is lowered to broadcasts and
// 1-D FMAs with 1-D transfers, which the rest of the CPU pipeline lowers
// directly to LLVM. This is the schedule bench/gemm measures as "upstream"
// and "rillc".
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/ModelCodegen/ModelCodegen.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "rill-model-codegen"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// Where the tiles of one contraction go.
struct ContractionPlan {
  SmallVector<int64_t> tileSizes;
  SmallVector<int64_t> interchange;
  /// Positions of the row and column loops in the tiled loop nest.
  unsigned rowLoop = 0;
  unsigned columnLoop = 0;
  /// The loop dimension of the rows (innermost m dimension).
  unsigned rowDim = 0;
};

/// Returns the tiling of `op`, or failure if `op` is not a contraction whose
/// column dimension is the innermost dimension of the output and of the
/// operand that has no row dimension (the weight).
FailureOr<ContractionPlan> planContraction(linalg::LinalgOp op,
                                           const ModelCodegenOptions &options) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() || dims->k.empty())
    return failure();

  unsigned row = dims->m.back(), column = dims->n.back(),
           reduction = dims->k.back();
  auto isInnermost = [&](AffineMap map, unsigned dim) {
    return map.getNumResults() > 0 &&
           map.getResults().back() == getAffineDimExpr(dim, op.getContext());
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!isInnermost(maps[2], column))
    return failure();
  // The weight is the input whose map does not use the row dimension.
  AffineMap weight = maps[0].getResultPosition(getAffineDimExpr(
                         row, op.getContext()))
                         ? maps[1]
                         : maps[0];
  if (!isInnermost(weight, column))
    return failure();

  ContractionPlan plan;
  plan.rowDim = row;
  plan.tileSizes.assign(op.getNumLoops(), 1);
  plan.tileSizes[row] = options.rowTile;
  plan.tileSizes[column] = options.columnTile;
  plan.tileSizes[reduction] = options.reductionTile;

  // Loop order: batch, rows, columns, then the reduction innermost so the
  // accumulator block stays in registers across it.
  for (ArrayRef<unsigned> group :
       {ArrayRef<unsigned>(dims->batch), ArrayRef<unsigned>(dims->m),
        ArrayRef<unsigned>(dims->n), ArrayRef<unsigned>(dims->k)})
    for (unsigned dim : group)
      plan.interchange.push_back(dim);
  if (plan.interchange.size() != op.getNumLoops())
    return failure();
  for (auto [position, dim] : llvm::enumerate(plan.interchange)) {
    if (dim == row)
      plan.rowLoop = position;
    if (dim == column)
      plan.columnLoop = position;
  }
  return plan;
}

FailureOr<scf::SCFTilingResult> tile(RewriterBase &rewriter,
                                     linalg::LinalgOp op,
                                     ArrayRef<int64_t> sizes,
                                     ArrayRef<int64_t> interchange) {
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(getAsIndexOpFoldResult(op.getContext(), sizes));
  if (!interchange.empty())
    tiling.setInterchange(interchange);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> result =
      scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()),
                        tiling);
  if (failed(result))
    return failure();
  rewriter.replaceOp(op, result->replacements);
  return result;
}

/// Tiles one contraction and peels its partial tiles. Rows left over by the
/// row tile are tiled again one row at a time so that they vectorize too.
/// NOTE: columns left over by the column tile (N not a multiple of it) stay
/// scalar loops.
LogicalResult tileContraction(RewriterBase &rewriter, linalg::LinalgOp op,
                              const ModelCodegenOptions &options) {
  FailureOr<ContractionPlan> plan = planContraction(op, options);
  if (failed(plan))
    return failure();
  FailureOr<scf::SCFTilingResult> tiled =
      tile(rewriter, op, plan->tileSizes, plan->interchange);
  if (failed(tiled))
    return failure();

  auto columnLoop =
      dyn_cast<scf::ForOp>(tiled->loops[plan->columnLoop].getOperation());
  auto rowLoop =
      dyn_cast<scf::ForOp>(tiled->loops[plan->rowLoop].getOperation());
  if (!columnLoop || !rowLoop)
    return success();

  scf::ForOp partialColumns, partialRows;
  (void)scf::peelForLoopAndSimplifyBounds(rewriter, columnLoop,
                                          partialColumns);
  if (failed(scf::peelForLoopAndSimplifyBounds(rewriter, rowLoop,
                                               partialRows)) ||
      options.rowTile == 1)
    return success();

  SmallVector<linalg::LinalgOp> remainders;
  partialRows.walk([&](linalg::LinalgOp inner) {
    if (linalg::isaContractionOpInterface(inner))
      remainders.push_back(inner);
  });
  for (linalg::LinalgOp inner : remainders) {
    SmallVector<int64_t> sizes(inner.getNumLoops(), 0);
    sizes[plan->rowDim] = 1;
    (void)tile(rewriter, inner, sizes, {});
  }
  return success();
}

/// True for a contraction tile that vectorizes into one register block.
bool isStaticTile(linalg::LinalgOp op, const ModelCodegenOptions &options) {
  if (!linalg::isaContractionOpInterface(op) || !op.hasPureTensorSemantics() ||
      !op->getParentOfType<scf::ForOp>())
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t volume = 1;
  for (int64_t range : ranges) {
    if (ShapedType::isDynamic(range))
      return false;
    volume *= range;
  }
  return volume <= options.rowTile * options.columnTile * options.reductionTile;
}

LogicalResult applyPatterns(Operation *root,
                            llvm::function_ref<void(RewritePatternSet &)> add) {
  MLIRContext *context = root->getContext();
  RewritePatternSet patterns(context);
  add(patterns);
  for (Dialect *dialect : context->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName name : context->getRegisteredOperations())
    name.getCanonicalizationPatterns(patterns, context);
  return applyPatternsGreedily(root, std::move(patterns));
}

/// Returns the native shape of the 1-D unrolling: every dimension but the
/// innermost becomes 1.
std::optional<SmallVector<int64_t>> getRowShape(Operation *op) {
  VectorType type;
  if (auto read = dyn_cast<vector::TransferReadOp>(op))
    type = read.getVectorType();
  else if (auto write = dyn_cast<vector::TransferWriteOp>(op))
    type = write.getVectorType();
  if (!type || type.getRank() < 2)
    return std::nullopt;
  SmallVector<int64_t> shape(type.getRank(), 1);
  shape.back() = type.getShape().back();
  return shape;
}

struct ModelCodegenPass
    : public PassWrapper<ModelCodegenPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ModelCodegenPass)

  explicit ModelCodegenPass(const ModelCodegenOptions &options)
      : options(options) {}

  StringRef getArgument() const override { return "rill-model-codegen"; }
  StringRef getDescription() const override {
    return "Tile and vectorize a model's matrix products into register "
           "blocks";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, arith::ArithDialect,
                    scf::SCFDialect, tensor::TensorDialect,
                    vector::VectorDialect>();
  }

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    IRRewriter rewriter(function.getContext());

    // 1. Tile and peel.
    SmallVector<linalg::LinalgOp> contractions;
    function.walk([&](linalg::LinalgOp op) {
      if (succeeded(planContraction(op, options)))
        contractions.push_back(op);
    });
    if (contractions.empty())
      return;
    for (linalg::LinalgOp op : contractions)
      if (failed(tileContraction(rewriter, op, options)))
        LLVM_DEBUG(llvm::dbgs() << "tiling failed for " << op << "\n");
    if (failed(applyPatterns(function, [](RewritePatternSet &) {})))
      return signalPassFailure();

    // 2. Vectorize the static tiles into vector.contract.
    SmallVector<linalg::LinalgOp> tiles;
    function.walk([&](linalg::LinalgOp op) {
      if (isStaticTile(op, options))
        tiles.push_back(op);
    });
    for (linalg::LinalgOp op : tiles) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
          rewriter, op, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
          /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
          /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/true);
      if (succeeded(vectorized))
        rewriter.replaceOp(op, vectorized->replacements);
    }
    if (failed(applyPatterns(function, [](RewritePatternSet &patterns) {
          vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
          vector::populateVectorTransferPermutationMapLoweringPatterns(
              patterns);
        })))
      return signalPassFailure();

    // 3. Keep the accumulator block in registers across the reduction loop:
    // hoist its transfer_read/transfer_write pair out of each loop, innermost
    // loops first.
    SmallVector<scf::ForOp> loops;
    function.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      (void)hoistLoopInvariantSubsets(
          rewriter, cast<LoopLikeOpInterface>(loop.getOperation()));

    // 4. Lower to broadcasts and 1-D FMAs over 1-D transfers.
    if (failed(applyPatterns(function, [](RewritePatternSet &patterns) {
          vector::populateVectorContractLoweringPatterns(
              patterns, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorOuterProductLoweringPatterns(patterns);
          vector::populateVectorTransposeLoweringPatterns(
              patterns, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorUnrollPatterns(
              patterns, vector::UnrollVectorOptions()
                            .setNativeShapeFn(getRowShape)
                            .setFilterConstraint([](Operation *op) {
                              return success(getRowShape(op).has_value());
                            }));
          vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
          vector::populateVectorTransferPermutationMapLoweringPatterns(
              patterns);
        })))
      return signalPassFailure();
  }

  ModelCodegenOptions options;
};

} // namespace

void mlir::rill::addModelCodegenPasses(OpPassManager &pm,
                                       const ModelCodegenOptions &options) {
  pm.addNestedPass<func::FuncOp>(std::make_unique<ModelCodegenPass>(options));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
