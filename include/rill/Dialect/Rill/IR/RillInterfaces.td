//===- RillInterfaces.td - The mask attribute interface ----*- tablegen -*-===//
//
// Declares MaskAttrInterface, the one place where the meaning of an attention
// mask lives. Every mask attribute implements it, and the tiler, the lowering
// and the runtime ask it instead of re-deriving the rules of each mask kind.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLINTERFACES_TD
#define RILL_DIALECT_RILL_IR_RILLINTERFACES_TD

include "mlir/IR/OpBase.td"

def Rill_MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::rill";
  let description = [{
    A mask is a predicate `visible(q, k, head)` over the stream position `q`
    of a query, the stream position `k` of a key and the query head `head`.
    Positions count the tokens the stream has seen, from 0. Only per-head
    masks and BigBird random blocks depend on `head`.

    Besides the predicate itself, the interface classifies rectangular tiles
    of (query, key) pairs so that kernels can skip empty tiles and drop the
    predicate on full ones, emits the predicate as `arith` IR for partial
    tiles, and reports the cache footprint a streaming step needs.
  }];

  let methods = [
    InterfaceMethod<[{
        Returns whether the query at stream position `q` may attend the key
        at stream position `k` for query head `head`. A per-head mask shows
        no key to heads outside `[0, getNumHeads())`.
      }],
      "bool", "isVisible",
      (ins "int64_t":$q, "int64_t":$k, "int64_t":$head)>,

    InterfaceMethod<[{
        Classifies the tile of query positions `[qBegin, qEnd)` and key
        positions `[kBegin, kEnd)` for `head`. `Empty` is returned only if no
        pair of the tile is visible, and `Full` only if every pair is. A tile
        with an empty range is `Empty`. Primitive masks are exact, so they
        return `Partial` only for tiles that mix visible and hidden pairs.
        Unions, intersections and per-head masks are sound but may return
        `Partial` for a tile that is in fact empty or full. They classify the
        key range on each side of every member's sink boundary separately,
        which makes the StreamingLLM union of sinks and a causal window
        exact.
      }],
      "::mlir::rill::TileKind", "classifyTile",
      (ins "int64_t":$qBegin, "int64_t":$qEnd, "int64_t":$kBegin,
           "int64_t":$kEnd, "int64_t":$head)>,

    InterfaceMethod<[{
        Emits IR that computes `isVisible(q, k, head)` at run time and
        returns its `i1` result. `q`, `k` and `head` are `index` values.
        Most masks emit only `arith` ops. BigBird with random blocks also
        emits an `scf.while` that replays the random-block draws.
      }],
      "::mlir::Value", "buildVisible",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$head)>,

    InterfaceMethod<[{
        Returns the number of query heads the mask is defined for, or
        `std::nullopt` when the mask applies to any number of heads. Only
        per-head masks (and compositions containing them) set it.
      }],
      "std::optional<int64_t>", "getNumHeads", (ins), [{}],
      [{ return std::nullopt; }]>,

    InterfaceMethod<[{
        Returns true if the mask never shows a key after its query, that is
        `isVisible(q, k, h)` implies `k <= q`. Sound for compositions: a
        union is causal when every member is, an intersection when at least
        one member is.
      }],
      "bool", "isCausal", (ins)>,

    InterfaceMethod<[{
        Returns a lookback `L` such that every visible key satisfies
        `k < getNumSinkKeys()` or `k > q - L`. In words, a query needs at
        most its `L` most recent keys (its own key included) besides the sink
        keys. Returns `std::nullopt` when no such bound exists (for example
        `causal` or BigBird with random blocks). The bound says nothing about
        keys after the query, so streaming callers also check `isCausal()`.
      }],
      "std::optional<int64_t>", "getMaxLookback", (ins)>,

    InterfaceMethod<[{
        Returns the number of leading stream positions that stay visible
        regardless of distance (the attention sinks), paired with
        `getMaxLookback()`. A streaming cache needs `getNumSinkKeys()` plus
        `getMaxLookback()` slots.
      }],
      "int64_t", "getNumSinkKeys", (ins), [{}], [{ return 0; }]>,
  ];
}

#endif // RILL_DIALECT_RILL_IR_RILLINTERFACES_TD
