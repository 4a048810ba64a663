// Layer selection by program order: the n-th rill.attention op of a function
// (in a pre-order walk, so an op inside a loop counts once) is layer n.

// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=1" | FileCheck %s --check-prefix=ONE
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=0,2" | FileCheck %s --check-prefix=LIST
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=0-1" | FileCheck %s --check-prefix=RANGE
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers='2, 0-0'" | FileCheck %s --check-prefix=LIST
// RUN: rill-opt %s --rill-set-mask="pattern=window(8)" | FileCheck %s --check-prefix=ALL
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=all" | FileCheck %s --check-prefix=ALL
// RUN: rill-opt %s --rill-set-mask="pattern=sinks(1)|bigbird(block=4,global=1,window=3,random=1,seed=7)" | FileCheck %s --check-prefix=BIGBIRD
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=2 heads=0" | FileCheck %s --check-prefix=HEAD
// RUN: rill-opt %s --rill-set-mask="pattern=window(8) layers=1 remarks=true" -verify-diagnostics -o /dev/null

// ONE-LABEL: func.func @three_layers
// ONE: mask(#rill.causal)
// ONE: mask(#rill.window<8>)
// ONE: mask(#rill.causal)

// LIST-LABEL: func.func @three_layers
// LIST: mask(#rill.window<8>)
// LIST: mask(#rill.causal)
// LIST: mask(#rill.window<8>)

// RANGE-LABEL: func.func @three_layers
// RANGE: mask(#rill.window<8>)
// RANGE: mask(#rill.window<8>)
// RANGE: mask(#rill.causal)

// `layers` and `heads` combine: only head 0 of layer 2 changes.
// HEAD-LABEL: func.func @three_layers
// HEAD: mask(#rill.causal)
// HEAD: mask(#rill.causal)
// HEAD: mask(#rill.per_head<[#rill.window<8>, #rill.causal, #rill.causal, #rill.causal]>)

// ALL-LABEL: func.func @three_layers
// ALL-COUNT-3: mask(#rill.window<8>)

// Each BigBird mask draws its random blocks for the layer it is set on.
// BIGBIRD-LABEL: func.func @three_layers
// BIGBIRD: mask(#rill.union<[#rill.sinks<1>, #rill.bigbird<block = 4, global = 1, window = 3, random = 1, seed = 7>]>)
// BIGBIRD: mask(#rill.union<[#rill.sinks<1>, #rill.bigbird<block = 4, global = 1, window = 3, random = 1, seed = 7, layer = 1>]>)
// BIGBIRD: mask(#rill.union<[#rill.sinks<1>, #rill.bigbird<block = 4, global = 1, window = 3, random = 1, seed = 7, layer = 2>]>)
func.func @three_layers(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                        %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  // expected-remark@+1 {{rill-set-mask: layer 1 mask #rill.causal replaced by #rill.window<8>}}
  %1 = rill.attention %0, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  %2 = rill.attention %1, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %2 : tensor<1x4x8x16xf32>
}

// The op inside the loop body is layer 1, once, however often the loop runs.
// ONE-LABEL: func.func @loop
// ONE: mask(#rill.full)
// ONE: scf.for
// ONE: mask(#rill.window<8>)
// ONE: mask(#rill.sinks<2>)
func.func @loop(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                %v: tensor<1x2x8x16xf32>, %pos: index, %n: index)
    -> tensor<1x4x8x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %0 = rill.attention %q, %k, %v at %pos, %pos mask(#rill.full)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  %1 = scf.for %i = %c0 to %n step %c1 iter_args(%x = %0)
      -> (tensor<1x4x8x16xf32>) {
    // expected-remark@+1 {{rill-set-mask: layer 1 mask #rill.causal replaced by #rill.window<8>}}
    %y = rill.attention %x, %k, %v at %pos, %pos mask(#rill.causal)
        : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
        -> tensor<1x4x8x16xf32>
    scf.yield %y : tensor<1x4x8x16xf32>
  }
  %2 = rill.attention %1, %k, %v at %pos, %pos mask(#rill.sinks<2>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %2 : tensor<1x4x8x16xf32>
}
