// Each RUN line sets one mask pattern kind on a single rill.attention op and
// checks the attribute that the pattern builds. The last RUN lines print the
// result and parse it again, so the new mask survives a round trip.

// RUN: rill-opt %s --rill-set-mask="pattern=full" | FileCheck %s --check-prefix=FULL
// RUN: rill-opt %s --rill-set-mask="pattern=causal" | FileCheck %s --check-prefix=CAUSAL
// RUN: rill-opt %s --rill-set-mask="pattern=window(128)" | FileCheck %s --check-prefix=WINDOW
// RUN: rill-opt %s --rill-set-mask="pattern=window(size=1)" | FileCheck %s --check-prefix=WINDOW1
// RUN: rill-opt %s --rill-set-mask="pattern=window(left=3,right=2)" | FileCheck %s --check-prefix=TWOSIDED
// RUN: rill-opt %s --rill-set-mask="pattern=window(left=3)" | FileCheck %s --check-prefix=LEFT
// RUN: rill-opt %s --rill-set-mask="pattern=sinks(4)" | FileCheck %s --check-prefix=SINKS
// RUN: rill-opt %s --rill-set-mask="pattern=dilated(window=8,dilation=2)" | FileCheck %s --check-prefix=DILATED
// RUN: rill-opt %s --rill-set-mask="pattern=chunked(64)" | FileCheck %s --check-prefix=CHUNKED
// RUN: rill-opt %s --rill-set-mask="pattern=bigbird(block=64,global=2,window=3,random=3,seed=0)" | FileCheck %s --check-prefix=BIGBIRD
// RUN: rill-opt %s --rill-set-mask="pattern=bigbird(block=16,global=1,window=5,random=2,seed=9,causal=true)" | FileCheck %s --check-prefix=BIGBIRD-CAUSAL
// RUN: rill-opt %s --rill-set-mask="pattern=sinks(4)|window(1020)" | FileCheck %s --check-prefix=STREAMING
// RUN: rill-opt %s --rill-set-mask="pattern='sinks(4) | window(1020)'" | FileCheck %s --check-prefix=STREAMING
// RUN: rill-opt %s --rill-set-mask="pattern=window(128)&causal" | FileCheck %s --check-prefix=INTERSECT
// RUN: rill-opt %s --rill-set-mask="pattern=causal|full&sinks(2)" | FileCheck %s --check-prefix=PRECEDENCE
// RUN: rill-opt %s --rill-set-mask="pattern=(causal|full)&sinks(2)" | FileCheck %s --check-prefix=PARENS
// RUN: rill-opt %s --rill-set-mask="pattern='[causal, window(4), sinks(1)|window(2), full]'" | FileCheck %s --check-prefix=PERHEAD
// RUN: rill-opt %s --rill-set-mask="pattern='[causal, window(4), sinks(1)|window(2), full]'" | rill-opt | FileCheck %s --check-prefix=PERHEAD
// RUN: rill-opt %s --rill-set-mask="pattern=sinks(4)|window(1020)" | rill-opt | FileCheck %s --check-prefix=STREAMING

// FULL-LABEL: func.func @one_layer
// FULL: rill.attention {{.*}} mask(#rill.full) :

// CAUSAL-LABEL: func.func @one_layer
// CAUSAL: rill.attention {{.*}} mask(#rill.causal) :

// WINDOW-LABEL: func.func @one_layer
// WINDOW: rill.attention {{.*}} mask(#rill.window<128>) :

// WINDOW1-LABEL: func.func @one_layer
// WINDOW1: rill.attention {{.*}} mask(#rill.window<1>) :

// TWOSIDED-LABEL: func.func @one_layer
// TWOSIDED: rill.attention {{.*}} mask(#rill.window<left = 3, right = 2>) :

// The causal window of 4 keys is left = 3, right = 0.
// LEFT-LABEL: func.func @one_layer
// LEFT: rill.attention {{.*}} mask(#rill.window<4>) :

// SINKS-LABEL: func.func @one_layer
// SINKS: rill.attention {{.*}} mask(#rill.sinks<4>) :

// DILATED-LABEL: func.func @one_layer
// DILATED: rill.attention {{.*}} mask(#rill.dilated<window = 8, dilation = 2>) :

// CHUNKED-LABEL: func.func @one_layer
// CHUNKED: rill.attention {{.*}} mask(#rill.chunked<64>) :

// BIGBIRD-LABEL: func.func @one_layer
// BIGBIRD: rill.attention {{.*}} mask(#rill.bigbird<block = 64, global = 2, window = 3, random = 3, seed = 0>) :

// BIGBIRD-CAUSAL-LABEL: func.func @one_layer
// BIGBIRD-CAUSAL: rill.attention {{.*}} mask(#rill.bigbird<block = 16, global = 1, window = 5, random = 2, seed = 9, causal>) :

// STREAMING-LABEL: func.func @one_layer
// STREAMING: rill.attention {{.*}} mask(#rill.union<[#rill.sinks<4>, #rill.window<1020>]>) :

// INTERSECT-LABEL: func.func @one_layer
// INTERSECT: rill.attention {{.*}} mask(#rill.intersect<[#rill.window<128>, #rill.causal]>) :

// `&` binds tighter than `|`.
// PRECEDENCE-LABEL: func.func @one_layer
// PRECEDENCE: rill.attention {{.*}} mask(#rill.union<[#rill.causal, #rill.intersect<[#rill.full, #rill.sinks<2>]>]>) :

// PARENS-LABEL: func.func @one_layer
// PARENS: rill.attention {{.*}} mask(#rill.intersect<[#rill.union<[#rill.causal, #rill.full]>, #rill.sinks<2>]>) :

// PERHEAD-LABEL: func.func @one_layer
// PERHEAD: rill.attention {{.*}} mask(#rill.per_head<[#rill.causal, #rill.window<4>, #rill.union<[#rill.sinks<1>, #rill.window<2>]>, #rill.full]>) :
func.func @one_layer(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                     %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.sinks<0>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}

// A function without rill.attention ops is left alone.
// FULL-LABEL: func.func @no_attention
// FULL-NEXT: return
func.func @no_attention() {
  return
}
