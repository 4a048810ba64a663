//===- RillOps.td - rill dialect operations ----------------*- tablegen -*-===//
//
// Operations of the rill dialect: attention with a structured mask and
// rotary position embedding.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLOPS_TD
#define RILL_DIALECT_RILL_IR_RILLOPS_TD

include "rill/Dialect/Rill/IR/RillBase.td"
include "rill/Dialect/Rill/IR/RillAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def Rill_AttentionOp : Rill_Op<"attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Scaled dot-product attention with a structured mask";
  let description = [{
    Computes, for batch `b`, query head `h`, query row `i` and key row `j`:

    ```
    g      = h / (Hq / Hkv)                          (grouped-query attention)
    s[j]   = scale * dot(query[b, h, i, :], key[b, g, j, :])
    s[j]   = softcap * tanh(s[j] / softcap)          (when softcap is set)
    s[j]   = s[j] + bias[b, h, i, j]                 (when bias is set)
    p[j]   = visible(q_pos + i, k_pos + j, h) ? exp(s[j] - m) : 0
    den    = sum_j p[j] + exp(sink_logits[h] - m)    (sink term when set)
    result[b, h, i, :] = sum_j p[j] * value[b, g, j, :] / den
    ```

    where `m` is the maximum over the visible scores (and the sink logit) of
    the row, `visible` is the `mask` attribute's predicate and
    `q_pos + i`, `k_pos + j` are stream positions. A key whose biased score
    is -inf counts as hidden. A row with no visible key yields zeros, with or
    without sink logits, never NaN. This matches
    `rill.reference.attention.attention` in the numpy reference.

    Operands:

    - `query`: `[B, Hq, Tq, D]`, float.
    - `key`: `[B, Hkv, Tk, D]` with the element type of `query`. `Hkv`
      divides `Hq`, and query head `h` reads key head `h / (Hq / Hkv)`.
    - `value`: `[B, Hkv, Tk, Dv]` with the element type of `query`.
    - `q_pos`, `k_pos`: `index`, the stream positions of query row 0 and key
      row 0. Query row `i` is at `q_pos + i` and key row `j` at
      `k_pos + j`.
    - `bias` (optional): additive scores of shape `[B|1, Hq|1, Tq, Tk]`,
      broadcast over batch and heads, same element type.
    - `sink_logits` (optional): `[Hq]`, a learned logit per query head that
      enters the softmax denominator only (gpt-oss style attention sinks).

    Attributes:

    - `mask`: any attribute implementing `MaskAttrInterface`. A per-head
      mask needs exactly `Hq` members.
    - `scale` (optional, f32): multiplies the scores, `1 / sqrt(D)` when
      absent.
    - `softcap` (optional, f32, > 0): logit soft-capping as in Gemma 2.

    The result is `[B, Hq, Tq, Dv]` with the element type of `query`.
    Dynamic dimensions are accepted, and the verifier checks every relation
    between static dimensions.

    Example (decode step of StreamingLLM with a ring cache of 1024 keys
    whose first key sits at stream position `%k0`):

    ```mlir
    %out = rill.attention %q, %k, %v at %qpos, %k0
        mask(#rill.union<[#rill.sinks<4>, #rill.window<1020>]>)
        : tensor<1x32x1x128xf32>, tensor<1x8x1024x128xf32>,
          tensor<1x8x1024x128xf32> -> tensor<1x32x1x128xf32>
    ```

    NOTE: key row `j` is always at stream position `k_pos + j`, so the keys
    of one op must be contiguous in the stream. A cache whose keys are not
    (a wrapped ring buffer, or sinks followed by a window) has to be
    presented in an order and position space where they are.
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Index:$q_pos,
    Index:$k_pos,
    Optional<AnyRankedTensor>:$bias,
    Optional<AnyRankedTensor>:$sink_logits,
    Rill_MaskAttrInterface:$mask,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $query `,` $key `,` $value `at` $q_pos `,` $k_pos
    `mask` `(` $mask `)`
    (`scale` `(` $scale^ `)`)?
    (`softcap` `(` $softcap^ `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`sinks` `(` $sink_logits^ `:` type($sink_logits) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($result)
  }];

  let builders = [
    // Attention without bias, sink logits, explicit scale or softcap.
    OpBuilder<(ins "::mlir::Type":$resultType, "::mlir::Value":$query,
                   "::mlir::Value":$key, "::mlir::Value":$value,
                   "::mlir::Value":$qPos, "::mlir::Value":$kPos,
                   "::mlir::rill::MaskAttrInterface":$mask), [{
      build($_builder, $_state, resultType, query, key, value, qPos, kPos,
            /*bias=*/::mlir::Value(), /*sink_logits=*/::mlir::Value(), mask,
            /*scale=*/::mlir::FloatAttr(), /*softcap=*/::mlir::FloatAttr());
    }]>
  ];

  let extraClassDeclaration = [{
    /// Returns the scale applied to the scores: the `scale` attribute, or
    /// `1 / sqrt(D)` when it is absent. Callers must check that `D` is
    /// static when `scale` is absent; with a dynamic `D` the scale is only
    /// known at run time and the result is NaN.
    double getEffectiveScale();
  }];

  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// RotaryOp
//===----------------------------------------------------------------------===//

def Rill_RotaryOp : Rill_Op<"rotary",
    [Pure, AttrSizedOperandSegments, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding (RoPE)";
  let description = [{
    Rotates channel pairs of `input` `[B, H, T, D]` by angles that grow with
    the stream position. Pair `i` (for `0 <= i < rd / 2`, `rd` the rotary
    dimension) of token `t` in batch `b` turns by

    ```
    angle = positions[b, t] * theta ^ (-2 i / rd)
    (x0, x1) -> (x0 cos(angle) - x1 sin(angle), x0 sin(angle) + x1 cos(angle))
    ```

    The angle and its sine and cosine are computed in f64, because stream
    positions past 10^6 lose whole radians in f32. The rotation itself runs
    in the element type.

    Pairs are `(2i, 2i + 1)` when `interleaved` is set (Meta's Llama,
    llama2.c) and `(i, i + rd / 2)` otherwise (GPT-NeoX, Hugging Face Llama).
    Channels `rd..D-1` pass through unchanged.

    Operands:

    - `input`: `[B, H, T, D]` float tensor, and the result has its type.
    - `positions`: `[B, T]` or `[1, T]` tensor of signless integers or
      index, the stream position of every token.
    - `cos_table`, `sin_table` (optional, together): `[max_pos, rd / 2]`
      tables of `cos(angle)` and `sin(angle)` indexed by position, as ONNX
      Runtime's RotaryEmbedding and GroupQueryAttention pass them. When
      present they replace the `theta`-based angles, and positions must be
      below `max_pos`.

    Attributes: `theta` (f64, default 10000), `rotary_dim` (i64, default
    `D`, even, `<= D`), `interleaved` (unit).

    ```mlir
    %r = rill.rotary %x at %pos {theta = 5.0e+05 : f64, interleaved}
        : tensor<1x32x16x128xf32>, tensor<1x16xi64>
    %t = rill.rotary %x at %pos tables(%cos, %sin
        : tensor<4096x64xf32>, tensor<4096x64xf32>)
        : tensor<1x32x16x128xf32>, tensor<1x16xi64>
    ```

    NOTE: positions outside the table range are undefined behaviour at run
    time, because the verifier can only check static shapes.
  }];

  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$positions,
    Optional<AnyRankedTensor>:$cos_table,
    Optional<AnyRankedTensor>:$sin_table,
    DefaultValuedAttr<F64Attr, "10000.0">:$theta,
    OptionalAttr<I64Attr>:$rotary_dim,
    UnitAttr:$interleaved
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    $input `at` $positions
    (`tables` `(` $cos_table^ `,` $sin_table `:` type($cos_table) `,`
                 type($sin_table) `)`)?
    attr-dict `:` type($input) `,` type($positions)
  }];

  let builders = [
    // Theta-based rotary embedding without tables.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$positions,
                   "double":$theta, "std::optional<int64_t>":$rotaryDim,
                   "bool":$interleaved)>
  ];

  let extraClassDeclaration = [{
    /// Returns the number of rotated channels: `rotary_dim`, or the static
    /// size of the last input dimension when the attribute is absent
    /// (`ShapedType::kDynamic` if that is dynamic too).
    int64_t getEffectiveRotaryDim();
  }];

  let hasVerifier = 1;
}

include "rill/Dialect/Rill/IR/RillCacheOps.td"

#endif // RILL_DIALECT_RILL_IR_RILLOPS_TD
