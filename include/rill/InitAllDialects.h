//===- InitAllDialects.h - register Rill's dialects -------------*- C++ -*-===//
//
// One place that adds the rill dialect and its interface implementations to
// a DialectRegistry, shared by rill-opt, rillc and the JIT entry points.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_INITALLDIALECTS_H
#define RILL_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

namespace mlir::rill {

/// Adds the rill dialect to `registry`.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<RillDialect>();
}

} // namespace mlir::rill

#endif // RILL_INITALLDIALECTS_H
