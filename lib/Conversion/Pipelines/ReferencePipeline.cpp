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
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {

/// Returns function arguments that a function updates in place (the caches
/// of a streaming step) as they are, instead of as fresh copies.
///
/// The ownership-based deallocation pipeline must give the caller a buffer
/// it owns, and an argument is never owned, so it returns `clone(%arg)`
/// (or `scf.if %owned { yield %arg } else { yield clone(%arg) }` before
/// canonicalization). Callers of Rill's entry points already accept results
/// that are their own inputs (the model glue and the JIT runner neither copy
/// nor free those), so the clone only costs a copy of every cache per step.
/// This pass returns `%arg` directly.
struct ReturnArgumentsInPlacePass
    : PassWrapper<ReturnArgumentsInPlacePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ReturnArgumentsInPlacePass)

  StringRef getArgument() const override {
    return "rill-return-arguments-in-place";
  }

  /// Returns the entry-block argument that `value` yields, directly or
  /// through a clone, or null.
  static Value getYieldedArgument(Value value, Block *entry) {
    if (auto clone = value.getDefiningOp<bufferization::CloneOp>())
      value = clone.getInput();
    auto argument = dyn_cast<BlockArgument>(value);
    return argument && argument.getOwner() == entry ? argument : Value();
  }

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    Block *entry = &function.getBody().front();
    function.walk([&](func::ReturnOp ret) {
      for (OpOperand &operand : ret->getOpOperands()) {
        auto choice = operand.get().getDefiningOp<scf::IfOp>();
        if (!choice) {
          if (Value argument = getYieldedArgument(operand.get(), entry))
            operand.set(argument);
          continue;
        }
        if (choice.getNumResults() != 1 || choice.getElseRegion().empty())
          continue;
        Value thenValue = getYieldedArgument(
            choice.thenYield().getOperand(0), entry);
        Value elseValue = getYieldedArgument(
            choice.elseYield().getOperand(0), entry);
        if (thenValue && thenValue == elseValue)
          operand.set(thenValue);
      }
    });
  }
};

} // namespace

void mlir::rill::addBufferizationPasses(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(std::make_unique<ReturnArgumentsInPlacePass>());
  pm.addPass(createCanonicalizerPass());
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
