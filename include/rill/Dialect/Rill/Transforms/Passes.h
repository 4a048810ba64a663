//===- Passes.h - Passes that transform rill ops ----------------*- C++ -*-===//
//
// Declares the passes of Passes.td (their option structs and constructors)
// and registerRillPasses(), which adds them to the global pass registry.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_TRANSFORMS_PASSES_H
#define RILL_DIALECT_RILL_TRANSFORMS_PASSES_H

#include "rill/Dialect/Rill/IR/RillDialect.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"

namespace mlir::rill {

#define GEN_PASS_DECL
#include "rill/Dialect/Rill/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "rill/Dialect/Rill/Transforms/Passes.h.inc"

} // namespace mlir::rill

#endif // RILL_DIALECT_RILL_TRANSFORMS_PASSES_H
