//===- RillAttrs.td - The mask attribute family ------------*- tablegen -*-===//
//
// Defines the attention mask attributes of the rill dialect: the primitive
// masks (full, causal, window, sinks, dilated, chunked, bigbird) and the
// compositions (union, intersect, per_head). Each implements
// MaskAttrInterface, which owns the semantics.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLATTRS_TD
#define RILL_DIALECT_RILL_IR_RILLATTRS_TD

include "rill/Dialect/Rill/IR/RillBase.td"
include "rill/Dialect/Rill/IR/RillInterfaces.td"

class Rill_MaskAttr<string name, string attrMnemonic>
    : AttrDef<Rill_Dialect, name,
              [DeclareAttrInterfaceMethods<Rill_MaskAttrInterface,
                   ["getNumHeads", "getNumSinkKeys"]>]> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Primitive masks
//===----------------------------------------------------------------------===//

def Rill_FullAttr : Rill_MaskAttr<"Full", "full"> {
  let summary = "Mask that shows every key";
  let description = [{
    `visible(q, k) = true`, in both directions, as in a bidirectional
    encoder. Not causal, and no lookback bound exists.

    ```mlir
    #rill.full
    ```
  }];
}

def Rill_CausalAttr : Rill_MaskAttr<"Causal", "causal"> {
  let summary = "Mask that shows the query's own key and every earlier key";
  let description = [{
    `visible(q, k) = k <= q`. Causal, with unbounded lookback, so a
    streaming cache for it grows with the stream.

    ```mlir
    #rill.causal
    ```
  }];
}

def Rill_WindowAttr : Rill_MaskAttr<"Window", "window"> {
  let summary = "Sliding-window mask, causal or two-sided";
  let description = [{
    `visible(q, k) = q - left <= k <= q + right` (FlashAttention's
    convention). The attribute stores `left` and `right`.

    The causal form `#rill.window<W>` is `left = W - 1, right = 0`, that is
    `q - W < k <= q`: exactly `W` keys are visible once `q >= W - 1`, the
    query's own key included (window 3 over 6 tokens shows 1, 2, 3, 3, 3, 3
    keys). A window with `right = 0` always prints in this form. The
    two-sided form, for encoders, is written
    `#rill.window<left = L, right = R>`.

    Invariants: `W >= 1`, `left >= 0`, `right >= 0`. Causal exactly when
    `right = 0`, and the lookback is `left + 1`.

    ```mlir
    #rill.window<1024>
    #rill.window<left = 64, right = 64>
    ```
  }];
  let parameters = (ins "int64_t":$left, "int64_t":$right);
  let builders = [
    AttrBuilder<(ins "int64_t":$size), [{
      return $_get($_ctxt, size - 1, int64_t(0));
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Rill_SinksAttr : Rill_MaskAttr<"Sinks", "sinks"> {
  let summary = "Mask that shows the first tokens of the stream";
  let description = [{
    `visible(q, k) = k < count and k <= q`: the attention sinks of
    StreamingLLM, with causality included. `#rill.sinks<0>` shows no key.
    The StreamingLLM mask is `#rill.union<[#rill.sinks<N>, #rill.window<W>]>`
    and needs a cache of `N + W` keys.

    Invariant: `count >= 0`.

    ```mlir
    #rill.sinks<4>
    ```
  }];
  let parameters = (ins "int64_t":$count);
  let assemblyFormat = "`<` $count `>`";
  let genVerifyDecl = 1;
}

def Rill_DilatedAttr : Rill_MaskAttr<"Dilated", "dilated"> {
  let summary = "Causal window whose keys are spaced `dilation` apart";
  let description = [{
    `visible(q, k) = 0 <= q - k < window * dilation and (q - k) % dilation == 0`,
    so the visible keys are `q, q - dilation, ..., q - (window - 1) * dilation`.
    `#rill.dilated<window = W, dilation = 1>` equals `#rill.window<W>`.

    Invariants: `window >= 1`, `dilation >= 1`. The lookback is
    `(window - 1) * dilation + 1`.

    ```mlir
    #rill.dilated<window = 8, dilation = 4>
    ```
  }];
  let parameters = (ins "int64_t":$window, "int64_t":$dilation);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Rill_ChunkedAttr : Rill_MaskAttr<"Chunked", "chunked"> {
  let summary = "Causal attention inside fixed-size chunks";
  let description = [{
    `visible(q, k) = floor(q / size) == floor(k / size) and k <= q`: a query
    sees the earlier keys of its own chunk only. The lookback is `size`.

    Invariant: `size >= 1`.

    ```mlir
    #rill.chunked<8192>
    ```
  }];
  let parameters = (ins "int64_t":$size);
  let assemblyFormat = "`<` $size `>`";
  let genVerifyDecl = 1;
}

def Rill_BigBirdAttr : Rill_MaskAttr<"BigBird", "bigbird"> {
  let summary = "Block-sparse BigBird mask: global, window and random blocks";
  let description = [{
    A block-level pattern. With query block `qb = floor(q / block)` and key
    block `kb = floor(k / block)`, the key is visible when any of these holds:

    - global: `qb < global` or `kb < global`, so the first `global` blocks
      attend to everything and everything attends to them,
    - window: `|qb - kb| <= window / 2` (integer division), with `window`
      counted in blocks and odd,
    - random: `kb` is one of the `random` key blocks drawn for
      `(seed, layer, head, qb)`.

    With `causal`, the key must also satisfy `k <= q`.

    Random blocks are drawn from the candidates `0..qb` and may coincide
    with window or global blocks. When there are at most `random`
    candidates all of them are taken. Otherwise, with wrapping unsigned
    64-bit arithmetic:

    ```
    splitmix64(z): z = z + 0x9E3779B97F4A7C15
                   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                   return z ^ (z >> 31)
    state = splitmix64(seed)
    state = splitmix64(state ^ layer)
    state = splitmix64(state ^ head)
    state = splitmix64(state ^ qb)
    draw `splitmix64(state ^ d) % (qb + 1)` for d = 0, 1, ... and keep the
    first `random` distinct blocks
    ```

    The choice is a pure function of its inputs, never of global RNG state,
    so two compilations and two runs agree bit for bit, and it matches the
    numpy reference `rill.reference.masks.bigbird_random_blocks`.

    Invariants: `block >= 1`, `global >= 0`, `window >= 1` and odd,
    `random >= 0`, `layer >= 0`. `seed` is an unsigned 64-bit integer.
    `seed` and `layer` default to 0, and the printed form omits a zero
    `layer`.

    NOTE: the original BigBird draws random blocks from the whole sequence
    minus the window and global blocks, which needs the sequence length.
    Drawing from `0..qb` keeps the mask defined for an unbounded stream, so
    the random blocks differ from the original in both variants.

    ```mlir
    #rill.bigbird<block = 64, global = 2, window = 3, random = 3, seed = 42>
    #rill.bigbird<block = 64, global = 1, window = 3, random = 2, seed = 7, layer = 5, causal>
    ```
  }];
  let parameters = (ins "int64_t":$block, "int64_t":$global,
                        "int64_t":$window, "int64_t":$random,
                        "uint64_t":$seed, "int64_t":$layer, "bool":$causal);
  let extraClassDeclaration = [{
    /// Returns the random key blocks of `queryBlock` for `head`, in draw
    /// order, exactly as `rill.reference.masks.bigbird_random_blocks` does.
    ::llvm::SmallVector<int64_t> getRandomBlocks(int64_t queryBlock,
                                                 int64_t head) const;

    /// Returns whether key block `keyBlock` is visible from query block
    /// `queryBlock` for `head`, ignoring the causal condition.
    bool isBlockVisible(int64_t queryBlock, int64_t keyBlock,
                        int64_t head) const;
  }];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Compositions
//===----------------------------------------------------------------------===//

def Rill_UnionAttr : Rill_MaskAttr<"Union", "union"> {
  let summary = "Mask that shows a key when any member shows it";
  let description = [{
    `visible(q, k, h) = any(m.visible(q, k, h) for m in masks)`. Causal when
    every member is causal. The sink count and the lookback are the maxima
    over the members (the lookback is unbounded if any member's is).

    Invariant: at least one member, each a mask attribute.

    ```mlir
    #rill.union<[#rill.sinks<4>, #rill.window<1020>]>
    ```
  }];
  let parameters = (ins "::mlir::ArrayAttr":$masks);
  let assemblyFormat = "`<` $masks `>`";
  let genVerifyDecl = 1;
}

def Rill_IntersectAttr : Rill_MaskAttr<"Intersect", "intersect"> {
  let summary = "Mask that shows a key when every member shows it";
  let description = [{
    `visible(q, k, h) = all(m.visible(q, k, h) for m in masks)`. Causal when
    at least one member is causal. The sink count and lookback are those of
    the member with the smallest bounded `sinks + lookback`.

    Invariant: at least one member, each a mask attribute.

    ```mlir
    #rill.intersect<[#rill.causal, #rill.window<left = 128, right = 128>]>
    ```
  }];
  let parameters = (ins "::mlir::ArrayAttr":$masks);
  let assemblyFormat = "`<` $masks `>`";
  let genVerifyDecl = 1;
}

def Rill_PerHeadAttr : Rill_MaskAttr<"PerHead", "per_head"> {
  let summary = "One mask per query head";
  let description = [{
    `visible(q, k, h) = masks[h].visible(q, k, h)`: query head `h` uses member
    `h`, so the attention op requires one member per query head. The member
    sees the head index unchanged, which matters for BigBird random blocks.
    Causal when every member is causal. Sink count and lookback are the
    maxima over the members.

    Invariants: at least one member, each a mask attribute.

    ```mlir
    #rill.per_head<[#rill.causal, #rill.window<256>, #rill.window<256>, #rill.causal]>
    ```
  }];
  let parameters = (ins "::mlir::ArrayAttr":$masks);
  let assemblyFormat = "`<` $masks `>`";
  let genVerifyDecl = 1;
}

#endif // RILL_DIALECT_RILL_IR_RILLATTRS_TD
