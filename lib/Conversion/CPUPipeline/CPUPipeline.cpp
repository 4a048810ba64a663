//===- CPUPipeline.cpp - The tiled, vectorized CPU pipeline ----*- C++ -*-===//
//
// Builds and registers `rill-cpu-pipeline`. It follows the reference
// pipeline's order of upstream passes but lowers attention with the tiled
// kernel, keeps vector math vectorized with polynomial approximations, and
// converts the kernel's scf.parallel loops to OpenMP before the memref and
// control-flow lowering.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/CPUPipeline/CPUPipeline.h"

#include "rill/Conversion/ModelCodegen/ModelCodegen.h"

#include "rill/Conversion/Passes.h"
#include "rill/Conversion/Pipelines.h"
#include "rill/Conversion/RillToSCF/RillToSCF.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {

/// Rewrites memref.copy between strided memrefs into linalg.copy, which
/// the pipeline lowers to loops with a unit-stride innermost dimension
/// that LLVM vectorizes. Otherwise such copies become calls of the MLIR
/// runner's generic memrefCopy, which walks every element with index
/// arithmetic (the cache and chunk joins of a streaming step spent a fifth
/// of the step there). Contiguous copies stay memref.copy (a memcpy).
struct StridedCopiesToLinalgPass
    : PassWrapper<StridedCopiesToLinalgPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(StridedCopiesToLinalgPass)

  StringRef getArgument() const override {
    return "rill-strided-copies-to-linalg";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (!source.getLayout().isIdentity() || !target.getLayout().isIdentity())
        copies.push_back(copy);
    });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      rewriter.eraseOp(copy);
    }
  }
};

/// True if fusing the producer of `operand` into its consumer computes no
/// element twice. The producer must be an all-parallel linalg.generic whose
/// only result has this one use, and the consumer must read it through a
/// permutation. Otherwise upstream fusion keeps the producer for its other
/// uses and recomputes it inside the consumer, or recomputes a broadcast
/// operand once per broadcast element (rotary tables read once per head).
bool fusesWithoutRecomputation(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || producer->getNumResults() != 1 ||
      !producer->getResult(0).hasOneUse())
    return false;
  if (producer.getNumParallelLoops() != producer.getNumLoops())
    return false;
  return consumer.getMatchingIndexingMap(operand).isPermutation();
}

/// Fuses elementwise linalg.generic producers into their consumers where
/// that saves a temporary without recomputing anything (see
/// fusesWithoutRecomputation). It runs after rill-model-codegen, so matrix
/// products are already loops and keep their schedule.
struct FuseElementwisePass
    : PassWrapper<FuseElementwisePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwisePass)

  StringRef getArgument() const override { return "rill-fuse-elementwise"; }
  StringRef getDescription() const override {
    return "Fuse single-use elementwise producers into consumers that read "
           "each produced element once";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::rill::buildCPUPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options) {
  // Tensor level: the tiled kernel first; whatever it rejects (other
  // element types, dynamic head sizes) and rill.rotary take the reference
  // decomposition.
  RillTileAttentionPassOptions tileOptions;
  tileOptions.queryTile = options.queryTile;
  tileOptions.keyTile = options.keyTile;
  tileOptions.vectorWidth = options.vectorWidth;
  tileOptions.parallel = options.openMP;
  tileOptions.prefetch = options.prefetch;
  pm.addPass(createRillTileAttentionPass(tileOptions));
  pm.addPass(createRillDecomposeAttentionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Matrix products become register-blocked vector loops.
  ModelCodegenOptions matmulOptions;
  matmulOptions.rowTile = options.matmulRowTile;
  matmulOptions.columnVectors = options.matmulColumnVectors;
  matmulOptions.vectorWidth = options.matmulVectorWidth;
  matmulOptions.parallel = options.openMP;
  matmulOptions.packWeights = options.matmulPackWeights;
  addModelCodegenPasses(pm, matmulOptions);
  if (options.fuseElementwise)
    pm.addNestedPass<func::FuncOp>(std::make_unique<FuseElementwisePass>());

  // Buffers, as in the reference pipeline: identity layouts at function
  // boundaries and a deallocation for every temporary.
  addBufferizationPasses(pm);
  pm.addNestedPass<func::FuncOp>(std::make_unique<StridedCopiesToLinalgPass>());

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createRillApproximateMathPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLoopInvariantCodeMotionPass());

  // OpenMP regions must exist before memref lowering, and memref lowering
  // must run before scf-to-cf flattens the regions.
  if (options.openMP)
    pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());

  // Remaining math: widen f16/bf16, then LLVM intrinsics before libm, so
  // that the vector fma and floor of the approximations stay vector
  // instructions instead of becoming one libm call per lane.
  addMathToLLVMPasses(pm);

  pm.addPass(createConvertVectorToLLVMPass());
  if (options.openMP)
    pm.addPass(createConvertOpenMPToLLVMPass());
  addFinalLLVMConversionPasses(pm);
}

void mlir::rill::registerCPUPipeline() {
  PassRegistration<FuseElementwisePass>();
  PassPipelineRegistration<CPUPipelineOptions>(
      "rill-cpu-pipeline",
      "Lower tensor-level Rill IR to the LLVM dialect through the tiled "
      "attention kernel, vector code and OpenMP",
      buildCPUPipeline);
}
