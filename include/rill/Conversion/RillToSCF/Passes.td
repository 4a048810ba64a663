//===- Passes.td - Tiled attention lowering passes ---------*- tablegen -*-===//
//
// Declares the passes of the tiled CPU lowering: rill-tile-attention, which
// turns rill.attention into a block-sparse online-softmax loop nest, and
// rill-approximate-math, which replaces exp and tanh by polynomials so that
// they stay vectorized down to LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_RILLTOSCF_PASSES_TD
#define RILL_CONVERSION_RILLTOSCF_PASSES_TD

include "mlir/Pass/PassBase.td"

def RillTileAttentionPass : Pass<"rill-tile-attention"> {
  let summary = "Lower rill.attention to a block-sparse online-softmax loop nest";
  let description = [{
    Rewrites every `rill.attention` on f32 tensors with static head sizes
    into a flash-attention style loop nest over memrefs: an `scf.parallel`
    (or `scf.for` nest) over batch, key/value head and query block, then
    a loop over the key tiles that the mask can show, with the running row
    maximum, row sum and output accumulator kept in stack buffers.

    The mask attribute decides which key tiles are visited:

    - With constant `q_pos`, `k_pos` and static `Tq`, `Tk`, every
      (query block, key tile) pair is classified at compile time with
      `classifyTile` and the visited tiles are stored per query block as
      a sparse list (a compressed-row table) of tile indices and kinds, so
      empty tiles are never visited, whatever the mask.
    - Otherwise the key tile range of each query block is computed at run
      time from `getNumSinkKeys`, `getMaxLookback` and `isCausal`: one
      loop over the sink tiles and one over the tiles that the lookback
      and causality allow. A full-tile test is emitted for the masks whose
      structure allows one (full, causal, window, sinks, chunked, dilated
      with dilation 1 and their unions and intersections); other tiles run
      the predicate.

    Full tiles run without mask arithmetic; partial tiles evaluate the
    mask's `buildVisible` once per (query, key) pair. The query heads that
    share a key/value head (grouped-query attention) are processed in the
    same iteration, so each key and value tile is read from memory once per
    group. Scores are dot products over the head dimension with `vector.fma`
    on `vector<WxF32>` and a reassociating `vector.reduction`; the softmax
    runs on vectors of `W` scores and the value update is a `vector.fma`
    over the value dimension.

    `rill.cache_attention` gets the same kernel, reading the cache and the
    chunk where they are: the block walks the sink slots (with
    `query_sink`), the ring of window slots, and the chunk rows, and a
    full-tile test per key tile derived from the slot rule lets the tiles
    that every query of the block sees run without a mask.
    `rill.cache_update` becomes a loop that writes each chunk row into its
    slot of the incoming cache, which one-shot bufferization performs in
    place.

    Ops with other element types, dynamic head sizes or a ranked bias other
    than rank 4 are left unchanged for `rill-decompose-attention`.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"16",
           "Query rows per head in one block (a block also spans the query "
           "heads of one key/value head)">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"32",
           "Keys per tile, the unit of mask classification and skipping">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector; 16 fills an AVX-512 register and is split "
           "into two registers by LLVM on AVX2 machines">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "Emit scf.parallel over batch, key/value heads and query blocks "
           "(for OpenMP) instead of sequential scf.for loops">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"false",
           "Prefetch the key and value rows of the following key tile while "
           "a tile runs">,
    Option<"staticTableLimit", "static-table-limit", "int64_t",
           /*default=*/"1048576",
           "Maximum number of (query block, key tile) pairs classified at "
           "compile time; larger problems classify at run time">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def RillApproximateMathPass : Pass<"rill-approximate-math"> {
  let summary = "Replace math.exp and math.tanh by polynomial approximations";
  let description = [{
    Applies the upstream polynomial approximations of `math.exp` and
    `math.tanh` (scalar and vector f32). LLVM would otherwise scalarize a
    vector exponential into one libm call per lane. The approximations are
    accurate to a few ulp over the f32 range and map `exp(-inf)` to 0.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // RILL_CONVERSION_RILLTOSCF_PASSES_TD
