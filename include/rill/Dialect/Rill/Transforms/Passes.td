//===- Passes.td - Passes that transform rill ops ----------*- tablegen -*-===//
//
// Declares the passes that rewrite rill ops in place: setting attention
// masks from the mask pattern language, and later fusion, streaming and
// tiling. Passes.h declares the generated constructors and registration.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_TRANSFORMS_PASSES_TD
#define RILL_DIALECT_RILL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// rill-set-mask
//===----------------------------------------------------------------------===//

def RillSetMaskPass : Pass<"rill-set-mask", "::mlir::ModuleOp"> {
  let summary = "Replace the mask of selected rill.attention ops";
  let description = [{
    Parses `pattern` in the mask pattern language (docs/mask-patterns.md)
    and writes the resulting mask attribute into the `mask` of every
    `rill.attention` op of the selected layers, optionally for selected
    query heads only.

    The pass runs on a module and visits every function in it (every op
    with FunctionOpInterface), so `--rill-set-mask=...` works directly on
    the command line.

    Layers. Inside each function, a `rill.attention` op's layer is its
    `rill.layer` integer attribute when every `rill.attention` op of the
    function has one, and otherwise its index among the function's
    `rill.attention` ops in program order (a pre-order walk, so ops inside
    loops count once), starting at 0. A function where only some ops have
    `rill.layer` is an error. `layers` is `all` or a comma-separated list of
    layer numbers and inclusive ranges, such as `0-3` or `1,4,7` or
    `0,8-11`. Every selected layer must exist in each function that has
    `rill.attention` ops. Functions without them are left alone.

    Heads. Without `heads`, the whole mask is replaced. With `heads` (same
    list syntax, `all` allowed), only those query heads get the new mask:
    the result is a `#rill.per_head` with one member per query head, where
    the selected heads get `pattern` and the others keep what the old mask
    showed them (a per-head old mask gives its member for that head). This
    needs a static number of query heads, and `pattern` must not itself be
    a per-head list. A per-head result whose members are all equal is
    written as that one member.

    BigBird. Every `#rill.bigbird` in `pattern` gets `layer` set to the
    op's layer, so its random blocks are drawn per layer, as
    `rill.reference.masks` does with `matrix(..., layer=L)`.

    The pass checks each new mask against its op before changing any op of
    the function: a per-head mask must have one member per query head.
    Invalid option values, a missing layer or head and a mask that does not
    fit fail the pass with an error that names the option and the value.

    A pattern with spaces must be quoted inside the option string.

    Example:

    ```
    rill-opt --rill-set-mask="pattern=sinks(4)|window(1020) layers=0-3"
    rill-opt --rill-set-mask="pattern=window(128) heads=0,1 remarks=true"
    rill-opt --rill-set-mask="pattern='[causal, window(256)]' layers=2"
    ```
  }];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"\"\"",
           "Mask in the mask pattern language, such as "
           "'sinks(4)|window(1020)' (required)">,
    Option<"layers", "layers", "std::string", /*default=*/"\"all\"",
           "Layers whose masks to replace: 'all', or layer numbers and "
           "inclusive ranges separated by commas, such as '0-3' or '1,4,7'">,
    Option<"heads", "heads", "std::string", /*default=*/"\"\"",
           "Query heads that get the new mask, in the syntax of 'layers', "
           "or empty to replace the whole mask">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark on every rill.attention op whose mask is "
           "replaced, with the old and the new mask">,
  ];
  let statistics = [
    Statistic<"numMasksSet", "masks-set",
              "Number of rill.attention masks replaced">,
  ];
  let dependentDialects = ["::mlir::rill::RillDialect"];
}

//===----------------------------------------------------------------------===//
// rill-fuse-attention
//===----------------------------------------------------------------------===//

def RillFuseAttentionPass : Pass<"rill-fuse-attention", "::mlir::ModuleOp"> {
  let summary = "Fuse decomposed attention and RoPE into rill ops";
  let description = [{
    Rewrites attention written out as tensor-level linalg ops, as the ONNX
    importer emits it for torch.onnx and optimum exports, into
    `rill.attention`, and rotate-half RoPE subgraphs into `rill.rotary`.

    Attention is matched from the contraction with the values backwards:
    the softmax over the last axis (max-reduce, subtract, exp, sum-reduce,
    divide, or `linalg.softmax`), the masks and scale applied to the
    scores, and the contraction of queries with transposed keys. Constant
    factors on the scores or on the queries and keys become `scale`.
    Grouped-query repetition of keys and values (expand and reshape) is
    removed, so the op reads `[B, Hkv, T, D]` keys and values.

    With `recognize-masks`, comparisons of query and key positions (from
    Range, Trilu-like index comparisons or a lower-triangular constant)
    become `#rill.causal` or `#rill.window<...>`. Every mask term that is
    not recognised, such as a padding mask from a runtime attention_mask,
    becomes the `bias` operand, and the op gets a remark that says why.
    A contraction with softmax weights that does not fuse gets a remark
    "fusion missed because ..." with the first precondition that failed.

    RoPE is matched as `x * cos + concat(-x2, x1) * sin`, with cos and sin
    gathered from constant tables by position ids.

    See docs/fusion.md for the recognised forms and their limits.
  }];
  let options = [
    Option<"recognizeMasks", "recognize-masks", "bool", /*default=*/"true",
           "Turn position comparisons in attention masks into mask "
           "attributes; when false, every mask becomes a bias">,
    Option<"fuseRotary", "fuse-rotary", "bool", /*default=*/"true",
           "Also rewrite RoPE subgraphs into rill.rotary">,
    Option<"remarks", "remarks", "bool", /*default=*/"true",
           "Emit remarks on fused ops whose mask was kept as a bias and on "
           "softmax-weighted contractions that did not fuse">,
  ];
  let statistics = [
    Statistic<"numAttentionFused", "attention-fused",
              "Number of rill.attention ops created">,
    Statistic<"numRotaryFused", "rotary-fused",
              "Number of rill.rotary ops created">,
  ];
  let dependentDialects = [
    "::mlir::rill::RillDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

//===----------------------------------------------------------------------===//
// rill-streamify
//===----------------------------------------------------------------------===//

def RillStreamifyPass : Pass<"rill-streamify", "::mlir::ModuleOp"> {
  let summary = "Turn a fused RoPE decoder into a streaming step function";
  let description = [{
    Rewrites the one function of the module that contains `rill.attention`
    ops into `func.func @step` with the signature of docs/streaming.md:
    token ids `[B, T]`, the stream position of each chunk's first token
    `[B]`, `sinks` and `capacity`, and one key and one value cache per
    layer; it returns the logits and the updated caches.

    Two input layouts are accepted: Hugging Face optimum's decoder (past
    key/value arguments concatenated before the new keys and values, which
    the function returns as presents) and a plain full-sequence decoder.
    Every `rill.attention` becomes `rill.cache_attention` followed by
    `rill.cache_update`. Keys are rotated once at their stream position
    with theta-based f64 angles; the query is rotated at its stream
    position and, for the sink keys, at the position the StreamingLLM
    reference gives it inside its cache. The `position_ids` and
    `attention_mask` arguments disappear. Rotary cos/sin tables are
    replaced by the theta they were generated from, and rejected when no
    theta generates them. A learned absolute position table is rejected
    unless `position-policy=clamped-absolute`.

    The defaults for the runtime (`rill.streaming.*` function attributes)
    come from the options or from the mask on the attention ops.

    ```
    rill-opt --rill-streamify="policy=sinks sinks=4 window=60"
    ```
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"sinks\"",
           "Default runtime policy recorded for the library: 'sinks', "
           "'window', 'dense' or 'recompute'">,
    Option<"sinks", "sinks", "int64_t", /*default=*/"-1",
           "Default number of sink tokens; -1 takes the mask's sink keys, "
           "or 4 for policy 'sinks' and 0 otherwise">,
    Option<"window", "window", "int64_t", /*default=*/"-1",
           "Default window in tokens; -1 takes capacity minus sinks or the "
           "mask's lookback, and records no default capacity when neither "
           "exists">,
    Option<"capacity", "capacity", "int64_t", /*default=*/"-1",
           "Default cache capacity in tokens; -1 means sinks plus window">,
    Option<"prefill", "prefill", "std::string", /*default=*/"\"mask-exact\"",
           "Attention inside a chunk: 'mask-exact' (same as one token per "
           "call) or 'dense-within-chunk' (the StreamingLLM reference's "
           "prompt processing)">,
    Option<"positionPolicy", "position-policy", "std::string",
           /*default=*/"\"rotary\"",
           "'rotary' (RoPE models only), 'clamped-absolute' (learned "
           "absolute tables read at min(t, capacity - 1), an approximation) "
           "or 'original' (RoPE with sink keys kept at their stream "
           "positions, the StreamingLLM ablation)">,
  ];
  let dependentDialects = [
    "::mlir::rill::RillDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // RILL_DIALECT_RILL_TRANSFORMS_PASSES_TD
