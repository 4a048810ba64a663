// Errors of rill-set-mask that depend on the IR, one per split. Every split
// runs with the same options, and a failing function keeps its old masks.

// RUN: rill-opt %s -split-input-file -verify-diagnostics --rill-set-mask="pattern=window(4) layers=1 heads=3"

// A layer index past the number of rill.attention ops.
// expected-error@+1 {{option 'layers' selects layer 1, but function @one_op has 1 rill.attention ops (layers 0 to 0)}}
func.func @one_op(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                  %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}

// -----

// `heads` needs a static number of query heads.
func.func @dynamic_heads(%q: tensor<1x?x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                         %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x?x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x?x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x?x8x16xf32>
  // expected-error@+1 {{option 'heads' needs a static number of query heads, but query dimension 1 of this op is dynamic}}
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x?x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x?x8x16xf32>
  return %1 : tensor<1x?x8x16xf32>
}

// -----

// A head index past the number of query heads.
func.func @two_heads(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                     %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x2x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x2x8x16xf32>
  // expected-error@+1 {{option 'heads' selects query head 3, but this op has 2 query heads}}
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x2x8x16xf32>
  return %1 : tensor<1x2x8x16xf32>
}

// -----

// `rill.layer` on some rill.attention ops of a function but not on all.
func.func @mixed_layer_attrs(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                             %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = 1 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  // expected-error@+1 {{has no 'rill.layer' attribute, but 1 of the 2 rill.attention ops of function @mixed_layer_attrs have one (rill-set-mask needs it on all of them or on none)}}
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %1 : tensor<1x4x8x16xf32>
}

// -----

// `rill.layer` that is not a non-negative integer.
func.func @negative_layer_attr(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                               %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  // expected-error@+1 {{expects 'rill.layer' to be a non-negative integer (got -1 : i64)}}
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = -1 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @string_layer_attr(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                             %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  // expected-error@+1 {{expects 'rill.layer' to be a non-negative integer (got "one")}}
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = "one"}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// A selected layer that no `rill.layer` attribute names.
// expected-error@+1 {{option 'layers' selects layer 1, but no rill.attention op of function @numbered has rill.layer = 1 (layers present: 0, 2)}}
func.func @numbered(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                    %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = 2 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = 0 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %1 : tensor<1x4x8x16xf32>
}
