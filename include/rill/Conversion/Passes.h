//===- Passes.h - Rill conversion passes ------------------------*- C++ -*-===//
//
// Declares the conversion passes of Rill (generated from Passes.td) and the
// function that registers them together with the reference pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_PASSES_H
#define RILL_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::rill {

#define GEN_PASS_DECL
#include "rill/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "rill/Conversion/Passes.h.inc"

} // namespace mlir::rill

#endif // RILL_CONVERSION_PASSES_H
