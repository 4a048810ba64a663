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

} // namespace rill
} // namespace mlir

#endif // RILL_CONVERSION_PIPELINES_H
