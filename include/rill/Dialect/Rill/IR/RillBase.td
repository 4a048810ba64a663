//===- RillBase.td - The rill dialect definition -----------*- tablegen -*-===//
//
// Declares the `rill` dialect itself. Ops live in RillOps.td, the mask
// attribute family and its interface in RillAttrs.td and RillInterfaces.td.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLBASE_TD
#define RILL_DIALECT_RILL_IR_RILLBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Rill_Dialect : Dialect {
  let name = "rill";
  let cppNamespace = "::mlir::rill";
  let summary = "Streaming and sparse attention";
  let description = [{
    The `rill` dialect expresses attention with structured masks: a mask is an
    attribute that states which keys a query at a given stream position may
    see (causal, sliding windows, attention sinks, dilated and chunked
    windows, BigBird blocks, and their unions, intersections and per-head
    mixes). Because the mask is structured instead of a dense tensor, passes
    can ask it which query-block by key-block tiles are empty, full or
    partial, and generate kernels that skip the empty ones.

    Positions are stream positions: token `t` is the `t`-th token the stream
    has seen, counting from 0. Ops take the stream position of their first
    query and first key as operands, so one op serves both prefill and
    decode steps.
  }];
  // Mask predicates are emitted as arith ops, and BigBird random blocks as an
  // scf.while loop.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Adds the mask attributes to the dialect; defined in RillAttrs.cpp.
    void registerAttributes();
  }];
}

class Rill_Op<string mnemonic, list<Trait> traits = []>
    : Op<Rill_Dialect, mnemonic, traits>;

#endif // RILL_DIALECT_RILL_IR_RILLBASE_TD
