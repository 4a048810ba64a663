//===- RillOps.h - rill dialect operations ----------------------*- C++ -*-===//
//
// Declares the operations of the rill dialect.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLOPS_H
#define RILL_DIALECT_RILL_IR_RILLOPS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

#define GET_OP_CLASSES
#include "rill/Dialect/Rill/IR/RillOps.h.inc"

#endif // RILL_DIALECT_RILL_IR_RILLOPS_H
