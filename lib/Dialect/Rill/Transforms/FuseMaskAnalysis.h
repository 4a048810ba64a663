//===- FuseMaskAnalysis.h - Attention mask position analysis ----*- C++ -*-===//
//
// Internal to rill-fuse-attention. Evaluates the elements of index and
// boolean tensors symbolically as linear functions of the loop indices of
// the attention scores [B, H, Tq, Tk], so that a mask built from Range,
// comparisons, slices of lower-triangular constants and broadcasts can be
// recognised as a causal or sliding-window predicate on positions. Also
// declares the remark helpers that the pass shares with the RoPE patterns.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_DIALECT_RILL_TRANSFORMS_FUSEMASKANALYSIS_H
#define RILL_LIB_DIALECT_RILL_TRANSFORMS_FUSEMASKANALYSIS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <optional>

namespace mlir::rill::fusion {

/// Number of loop dimensions of the scores: batch, head, query, key.
constexpr unsigned kScoreRank = 4;

/// A linear expression `sum_i coeffs[i] * d_i + constant + dynamicCoeff *
/// dynamic` over the score loop dimensions `d_i`, with at most one runtime
/// integer scalar `dynamic`.
struct PositionExpr {
  std::array<int64_t, kScoreRank> coeffs{};
  int64_t constant = 0;
  Value dynamic;
  int64_t dynamicCoeff = 0;

  static PositionExpr getConstant(int64_t value);
  static PositionExpr getDim(unsigned dim);
  bool isConstant() const;
};

/// The index of one tensor element, as one expression per tensor dimension.
using IndexExprs = SmallVector<PositionExpr>;

/// Bounds `lower <= k - q <= upper` on key position minus query position,
/// where query row `i` sits at `queryOffset + i` and key row `j` at
/// `keyOffset + j` (null offsets are 0).
struct PositionBounds {
  std::optional<int64_t> lower;
  std::optional<int64_t> upper;
  Value queryOffset;
  Value keyOffset;
};

/// Returns the identity index of the scores: `(d0, d1, d2, d3)`.
IndexExprs getScoreIndex();

/// Returns the index `map(index)` read by an indexing map whose dimensions
/// are given by `index`, or failure when a result is not linear.
FailureOr<IndexExprs> composeIndex(AffineMap map, ArrayRef<PositionExpr> index);

/// Returns `index` as an affine map over the score loop dimensions, or
/// failure when it has a runtime term.
FailureOr<AffineMap> getIndexMap(MLIRContext *context,
                                 ArrayRef<PositionExpr> index);

/// Returns the bounds that the boolean tensor `mask`, read at `index`,
/// places on `k - q`: a comparison of a key position with a query position,
/// a conjunction of such comparisons, or a slice of a constant
/// lower-triangular (band) matrix. Fails on anything else.
FailureOr<PositionBounds> analyzePositionMask(Value mask,
                                              ArrayRef<PositionExpr> index);

/// Returns the bounds that the i1 scalar `condition`, computed in the body
/// of the elementwise `generic` at the loop point `loops`, places on
/// `k - q`, as analyzePositionMask does for tensors.
FailureOr<PositionBounds>
analyzePositionCondition(Value condition, Operation *generic,
                         ArrayRef<PositionExpr> loops);

/// Returns the bounds of the negated condition: `k - q <= U` becomes
/// `k - q >= U + 1` and the reverse. Fails for two-sided bounds, whose
/// negation is no interval.
FailureOr<PositionBounds> negateBounds(const PositionBounds &bounds);

/// Returns the `rill.name` of the first function argument that `value`
/// depends on, searching at most a few hundred producers, or an empty
/// string when it depends on none.
StringRef findRuntimeInputName(Value value);

/// Records the first match-failure reason reported through a rewriter, so
/// that a missed fusion can be explained in a remark.
struct FailureReasonListener : RewriterBase::Listener {
  void
  notifyMatchFailure(Location loc,
                     function_ref<void(Diagnostic &)> reasonCallback) override {
    if (!reason.empty())
      return;
    Diagnostic diagnostic(loc, DiagnosticSeverity::Remark);
    reasonCallback(diagnostic);
    reason = diagnostic.str();
  }

  std::string reason;
};

/// Emits "RoPE fusion missed because ..." on the root of every RoPE
/// subgraph under `root` whose cos is still computed by math.cos, with the
/// first precondition that failed (such as inverse frequencies that no
/// theta generates). Subgraphs with gathered tables get no remark.
void emitMissedRotaryRemarks(Operation *root);

} // namespace mlir::rill::fusion

#endif // RILL_LIB_DIALECT_RILL_TRANSFORMS_FUSEMASKANALYSIS_H
