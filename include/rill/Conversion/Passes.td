//===- Passes.td - Rill conversion passes ------------------*- tablegen -*-===//
//
// Declares the passes that lower rill ops to upstream dialects. The
// generated declarations and registration live in Passes.h.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_PASSES_TD
#define RILL_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def RillDecomposeAttentionPass : Pass<"rill-decompose-attention"> {
  let summary = "Lower rill.attention and rill.rotary to linalg on tensors";
  let description = [{
    Rewrites every `rill.attention` and `rill.rotary` into `linalg.generic`,
    `tensor`, `arith` and `math` ops on tensors. The result is the reference
    semantics of both ops, written for clarity instead of speed: it
    materializes the full `[B, Hq, Tq, Tk]` score tensor, so it is the
    correctness baseline that tiled kernels are compared against.

    Attention becomes, in order: scores with the grouped-query head mapping
    `h / (Hq / Hkv)`, scale, soft-capping, bias, the mask predicate of the
    mask attribute evaluated at stream positions `q_pos + i` and `k_pos + j`,
    a row maximum over the visible scores and the sink logit, exponentials,
    the denominator (plus the sink term), and the weighted sum of values.
    Rows without a visible key yield zeros. f16 and bf16 inputs are computed
    in f32 and rounded once at the end.

    Rotary becomes one `linalg.generic` whose angles, sines and cosines are
    computed in f64 (or read from the cos/sin tables) and then rounded to
    the element type for the rotation.

    Dynamic dimensions are supported. An op whose preconditions fail (for
    example f8 element types) makes the pass fail with an error that names
    the precondition.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // RILL_CONVERSION_PASSES_TD
