//===- RillOps.cpp - rill dialect operations -------------------*- C++ -*-===//
//
// Verifiers and builders of the rill dialect operations.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillOps.h"

using namespace mlir;
using namespace mlir::rill;

#define GET_OP_CLASSES
#include "rill/Dialect/Rill/IR/RillOps.cpp.inc"
