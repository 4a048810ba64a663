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
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

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

  // Buffers, as in the reference pipeline: identity layouts at function
  // boundaries and a deallocation for every temporary.
  addBufferizationPasses(pm);

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
  PassPipelineRegistration<CPUPipelineOptions>(
      "rill-cpu-pipeline",
      "Lower tensor-level Rill IR to the LLVM dialect through the tiled "
      "attention kernel, vector code and OpenMP",
      buildCPUPipeline);
}
