//===- ReferencePipeline.cpp - The reference CPU pipeline ------*- C++ -*-===//
//
// Builds and registers `rill-reference-pipeline`, which lowers tensor-level
// Rill IR to the LLVM dialect through the simplest upstream passes: scalar
// loops, libm calls for transcendental math and malloc/free for buffers.
// The JIT runner and the numerics tests use it as the correctness baseline.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/Pipelines.h"

#include "rill/Conversion/Passes.h"

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
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
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

void mlir::rill::addBufferizationPasses(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void mlir::rill::addMathToLLVMPasses(OpPassManager &pm) {
  pm.addPass(math::createMathExtendToSupportedTypes());
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
}

void mlir::rill::addFinalLLVMConversionPasses(OpPassManager &pm) {
  pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::rill::buildReferencePipeline(OpPassManager &pm) {
  // Tensor level: replace rill ops by linalg on tensors, then tidy up.
  pm.addPass(rill::createRillDecomposeAttentionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Buffers. Identity layouts at function boundaries keep the C interface
  // simple: callers pass and receive plain row-major descriptors. The
  // deallocation pipeline frees every temporary and makes returned buffers
  // fresh allocations that the caller owns.
  addBufferizationPasses(pm);

  // Loops and address arithmetic.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());

  // Math: widen f16/bf16 math to f32 and expand integer powers into loops.
  // LLVM intrinsics come first (exp, tanh, pow, cos, sqrt, rsqrt as
  // 1 / sqrt, ...), and LLVM code generation turns most of them into libm
  // calls. They come before math-to-libm because that pass would turn rsqrt
  // into a call of rsqrtf, which libm does not define. Direct libm calls
  // cover the ops without an intrinsic (erf, ...).
  addMathToLLVMPasses(pm);

  // Everything else to the LLVM dialect.
  addFinalLLVMConversionPasses(pm);
}

void mlir::rill::registerReferencePipeline() {
  PassPipelineRegistration<>(
      "rill-reference-pipeline",
      "Lower tensor-level Rill IR to the LLVM dialect through scalar loops "
      "(the correctness baseline used by the JIT runner)",
      [](OpPassManager &pm) { buildReferencePipeline(pm); });
}
