//===- RillCacheOps.td - Ring-buffer cache operations ------*- tablegen -*-===//
//
// Operations on the streaming key/value cache of docs/streaming.md: the
// attention of a chunk of queries over a ring-buffer cache plus the chunk's
// own keys, and the write of the chunk's keys and values into the ring.
// rill-streamify emits them; rill-decompose-attention lowers them.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLCACHEOPS_TD
#define RILL_DIALECT_RILL_IR_RILLCACHEOPS_TD

include "rill/Dialect/Rill/IR/RillBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// CacheAttentionOp
//===----------------------------------------------------------------------===//

def Rill_CacheAttentionOp : Rill_Op<"cache_attention",
    [Pure, AllTypesMatch<["query", "query_sink"]>]> {
  let summary = "Attention of a chunk over a ring-buffer cache and itself";
  let description = [{
    Attention of the queries of one chunk of a stream over the keys held in
    a ring-buffer cache (stream positions before the chunk) followed by the
    chunk's own keys. `s = positions[b]` is the stream position of the
    chunk's first token, so query row `i` is at `t = s + i`, chunk key row
    `j` at `s + j`, and cache slot `c` holds the position that the slot rule
    gives (`W = capacity - sinks`):

    ```
    slot(p) = p                          if p < sinks
            = sinks + (p - sinks) mod W  otherwise
    slot c < sinks:  position c if c < s, else empty
    slot c >= sinks: the largest p < s with p >= sinks and slot(p) = c,
                     else empty
    ```

    A key at position `p` is visible to the query at `t` when its slot is
    not empty and

    ```
    p <= t  and  (p < sinks  or  t - p < W)          (mask-exact, default)
    ```

    With `dense_within_chunk`, every non-empty cache slot and every chunk
    key with `p <= t` is visible instead, which is the StreamingLLM
    reference's prompt processing (dense causal attention inside the
    chunk, eviction afterwards).

    Keys are rotated once, at their stream position. The score of a key at
    `p < sinks` (a sink key) uses `query_sink`, every other score uses
    `query`:

    ```
    s[j] = scale * dot(p_j < sinks ? query_sink[b, h, i] : query[b, h, i],
                       key_j[b, h / (Hq / Hkv)])
    ```

    Soft-capping, sink logits, the softmax and the zero result of a row
    without a visible key follow `rill.attention`.

    Operands:

    - `query`: `[B, Hq, T, D]`, rotated at stream positions `s + i`.
    - `query_sink`: the same query rotated at the position it has inside
      the reference's cache, `min(t, capacity - 1)` for mask-exact
      prefill; same type as `query`.
    - `key`, `value`: the chunk's `[B, Hkv, T, D]` (keys rotated at stream
      positions) and `[B, Hkv, T, Dv]`.
    - `key_cache`, `value_cache`: `[B, Hkv, C, D]` and `[B, Hkv, C, Dv]`.
    - `positions`: `[B]` i64, the stream position of each chunk's first
      token.
    - `sinks`, `capacity`: `index`. The caller guarantees
      `0 <= sinks < capacity` and `capacity = C`.
    - `sink_logits` (optional): `[Hq]`, as in `rill.attention`.

    Attributes: `scale` (f32, default `1 / sqrt(D)`), `softcap` (f32,
    > 0), `dense_within_chunk` (unit).

    ```mlir
    %o = rill.cache_attention %q, %qs, %k, %v, %kc, %vc at %pos
        sinks(%sinks) capacity(%cap) scale(3.535534e-01 : f32)
        : tensor<1x8x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>,
          tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1xi64>
        -> tensor<1x8x?x8xf32>
    ```

    NOTE: `capacity` must equal the cache's dimension 2 and
    `sinks < capacity`; the verifier checks this only for constants.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$query_sink,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    AnyRankedTensor:$key_cache,
    AnyRankedTensor:$value_cache,
    AnyRankedTensor:$positions,
    Index:$sinks,
    Index:$capacity,
    Optional<AnyRankedTensor>:$sink_logits,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap,
    UnitAttr:$dense_within_chunk
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $query `,` $query_sink `,` $key `,` $value `,` $key_cache `,`
    $value_cache `at` $positions
    `sinks` `(` $sinks `)` `capacity` `(` $capacity `)`
    (`scale` `(` $scale^ `)`)?
    (`softcap` `(` $softcap^ `)`)?
    (`sink_logits` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($key_cache) `,` type($value_cache) `,` type($positions)
    `->` type($result)
  }];

  let extraClassDeclaration = [{
    /// Returns the `scale` attribute, or `1 / sqrt(D)` when it is absent
    /// (NaN when `D` is dynamic).
    double getEffectiveScale();
  }];

  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// CacheUpdateOp
//===----------------------------------------------------------------------===//

def Rill_CacheUpdateOp : Rill_Op<"cache_update",
    [Pure, AllTypesMatch<["key_cache", "new_key_cache"]>,
     AllTypesMatch<["value_cache", "new_value_cache"]>]> {
  let summary = "Write a chunk's keys and values into a ring-buffer cache";
  let description = [{
    Returns the caches with the keys and values of one chunk written into
    their slots. Row `j` of the chunk is at stream position
    `p = positions[b] + j` and goes to slot

    ```
    slot(p) = p                                       if p < sinks
            = sinks + (p - sinks) mod (capacity - sinks)  otherwise
    ```

    When several rows of a chunk map to one slot (a chunk longer than the
    window), the last row wins, so the result equals writing the rows one
    at a time. Slots that no row maps to keep their contents.

    Operands: `key` `[B, Hkv, T, D]`, `value` `[B, Hkv, T, Dv]`,
    `key_cache` `[B, Hkv, C, D]`, `value_cache` `[B, Hkv, C, Dv]`,
    `positions` `[B]` i64, `sinks` and `capacity` (`index`,
    `0 <= sinks < capacity = C`). The results have the caches' types.

    ```mlir
    %kc2, %vc2 = rill.cache_update %k, %v into %kc, %vc at %pos
        sinks(%sinks) capacity(%cap)
        : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>,
          tensor<1x4x?x8xf32>, tensor<1xi64>
    ```

    NOTE: as for `rill.cache_attention`, `capacity` is trusted to equal
    dimension 2 of the caches unless both are constants.
  }];

  let arguments = (ins
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    AnyRankedTensor:$key_cache,
    AnyRankedTensor:$value_cache,
    AnyRankedTensor:$positions,
    Index:$sinks,
    Index:$capacity
  );
  let results = (outs AnyRankedTensor:$new_key_cache,
                      AnyRankedTensor:$new_value_cache);

  let assemblyFormat = [{
    $key `,` $value `into` $key_cache `,` $value_cache `at` $positions
    `sinks` `(` $sinks `)` `capacity` `(` $capacity `)`
    attr-dict `:` type($key) `,` type($value) `,` type($key_cache) `,`
    type($value_cache) `,` type($positions)
  }];

  let hasVerifier = 1;
}

#endif // RILL_DIALECT_RILL_IR_RILLCACHEOPS_TD
