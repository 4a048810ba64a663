// Layer selection by the `rill.layer` attribute: when every rill.attention op
// of a function has one, it is the op's layer, whatever the program order.

// RUN: rill-opt %s --rill-set-mask="pattern=chunked(16) layers=7" | FileCheck %s --check-prefix=SEVEN
// RUN: rill-opt %s --rill-set-mask="pattern=chunked(16) layers=3,7" | FileCheck %s --check-prefix=BOTH
// RUN: rill-opt %s --rill-set-mask="pattern=bigbird(block=4,global=1,window=3,random=1)" | FileCheck %s --check-prefix=BIGBIRD

// SEVEN-LABEL: func.func @numbered
// SEVEN: mask(#rill.chunked<16>) {rill.layer = 7 : i64}
// SEVEN: mask(#rill.causal) {rill.layer = 3 : i64}

// BOTH-LABEL: func.func @numbered
// BOTH: mask(#rill.chunked<16>) {rill.layer = 7 : i64}
// BOTH: mask(#rill.chunked<16>) {rill.layer = 3 : i64}

// BIGBIRD-LABEL: func.func @numbered
// BIGBIRD: mask(#rill.bigbird<block = 4, global = 1, window = 3, random = 1, seed = 0, layer = 7>) {rill.layer = 7 : i64}
// BIGBIRD: mask(#rill.bigbird<block = 4, global = 1, window = 3, random = 1, seed = 0, layer = 3>) {rill.layer = 3 : i64}
func.func @numbered(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                    %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = 7 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      {rill.layer = 3 : i64}
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %1 : tensor<1x4x8x16xf32>
}
