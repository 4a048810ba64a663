//===- Pipelines.h - Rill lowering pipelines --------------------*- C++ -*-===//
//
// Declares the pass pipelines that take tensor-level Rill IR down to the
// LLVM dialect. The reference pipeline favours obviously correct code over
// speed; it is what the JIT runner and the numerics tests use.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_PIPELINES_H
#define RILL_CONVERSION_PIPELINES_H

namespace mlir {
class OpPassManager;

namespace rill {

/// Adds the reference CPU pipeline to `pm`, which must be anchored on
/// builtin.module: decompose rill ops, bufferize (function boundaries with
/// identity layouts), insert deallocations, lower linalg to loops, then
/// memref, math (to libm calls), arith, cf and func to the LLVM dialect.
/// Public functions with `llvm.emit_c_interface` get C wrappers.
void buildReferencePipeline(OpPassManager &pm);

/// Registers `rill-reference-pipeline` with the global pass registry.
void registerReferencePipeline();

/// Adds the bufferization stage every Rill pipeline shares: one-shot
/// bufferization with identity layouts at function boundaries (plain
/// row-major descriptors for C callers), a deallocation for every temporary,
/// and bufferization ops lowered to memref.
void addBufferizationPasses(OpPassManager &pm);

/// Adds the math lowering every Rill pipeline shares: f16/bf16 math widened
/// to f32, LLVM intrinsics first, libm calls for the ops without one.
void addMathToLLVMPasses(OpPassManager &pm);

/// Adds the final conversions of arith, index, cf, func and ub to the LLVM
/// dialect and removes the leftover casts.
void addFinalLLVMConversionPasses(OpPassManager &pm);

} // namespace rill
} // namespace mlir

#endif // RILL_CONVERSION_PIPELINES_H
