//===- RillDialect.cpp - rill dialect registration -------------*- C++ -*-===//
//
// Registers the rill dialect's operations and attributes.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillDialect.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

using namespace mlir;
using namespace mlir::rill;

#include "rill/Dialect/Rill/IR/RillDialect.cpp.inc"

void RillDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "rill/Dialect/Rill/IR/RillOps.cpp.inc"
      >();
  registerAttributes();
}
