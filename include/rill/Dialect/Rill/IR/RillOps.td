//===- RillOps.td - rill dialect operations ----------------*- tablegen -*-===//
//
// Operations of the rill dialect: attention with a structured mask and
// rotary position embedding.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLOPS_TD
#define RILL_DIALECT_RILL_IR_RILLOPS_TD

include "rill/Dialect/Rill/IR/RillBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

#endif // RILL_DIALECT_RILL_IR_RILLOPS_TD
