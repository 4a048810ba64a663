//===- RillDialect.h - rill dialect declaration -----------------*- C++ -*-===//
//
// Declares the rill dialect class. Include RillOps.h for the ops and
// RillAttrs.h for the mask attributes.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLDIALECT_H
#define RILL_DIALECT_RILL_IR_RILLDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dialect.h"

#include "rill/Dialect/Rill/IR/RillDialect.h.inc"

#endif // RILL_DIALECT_RILL_IR_RILLDIALECT_H
