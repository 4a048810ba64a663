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

#endif // RILL_DIALECT_RILL_TRANSFORMS_PASSES_TD
