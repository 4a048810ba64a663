// Head selection: with `heads`, only the listed query heads get the new mask
// and the others keep what the old mask showed them.

// RUN: rill-opt %s --rill-set-mask="pattern=window(8) heads=1,3" | FileCheck %s --check-prefix=ODD
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) heads=0-1" | FileCheck %s --check-prefix=LOW
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) heads=0-3" | FileCheck %s --check-prefix=EVERY
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) heads=all" | FileCheck %s --check-prefix=EVERY

// ODD-LABEL: func.func @plain_mask
// ODD: mask(#rill.per_head<[#rill.causal, #rill.window<8>, #rill.causal, #rill.window<8>]>)
// LOW-LABEL: func.func @plain_mask
// LOW: mask(#rill.per_head<[#rill.window<8>, #rill.window<8>, #rill.causal, #rill.causal]>)
// Selecting every head gives every member the new mask, which collapses to it.
// EVERY-LABEL: func.func @plain_mask
// EVERY: mask(#rill.window<8>)
func.func @plain_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                      %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}

// A per-head old mask keeps its own member on the heads that are not listed.
// ODD-LABEL: func.func @per_head_mask
// ODD: mask(#rill.per_head<[#rill.full, #rill.window<8>, #rill.chunked<4>, #rill.window<8>]>)
// LOW-LABEL: func.func @per_head_mask
// LOW: mask(#rill.per_head<[#rill.window<8>, #rill.window<8>, #rill.chunked<4>, #rill.sinks<1>]>)
func.func @per_head_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                         %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos
      mask(#rill.per_head<[#rill.full, #rill.causal, #rill.chunked<4>, #rill.sinks<1>]>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}

// A per-head mask inside a union is resolved per head: head 2 keeps
// `causal | sinks(2)` and head 3 keeps `full | sinks(2)`.
// LOW-LABEL: func.func @union_with_per_head
// LOW: mask(#rill.per_head<[#rill.window<8>, #rill.window<8>, #rill.union<[#rill.causal, #rill.sinks<2>]>, #rill.union<[#rill.full, #rill.sinks<2>]>]>)
func.func @union_with_per_head(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                               %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos
      mask(#rill.union<[#rill.per_head<[#rill.causal, #rill.full, #rill.causal, #rill.full]>, #rill.sinks<2>]>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}
