// RUN: rill-opt %s | rill-opt | FileCheck %s
// RUN: rill-opt -mlir-print-op-generic %s | rill-opt | FileCheck %s

// CHECK-LABEL: func.func @attention_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x8x16xf32>, %[[K:.*]]: tensor<1x2x8x16xf32>, %[[V:.*]]: tensor<1x2x8x32xf32>, %[[POS:.*]]: index)
// CHECK: rill.attention %[[Q]], %[[K]], %[[V]] at %[[POS]], %[[POS]] mask(#rill.causal) : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
func.func @attention_causal(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                            %v: tensor<1x2x8x32xf32>, %pos: index)
    -> tensor<1x4x8x32xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32>
      -> tensor<1x4x8x32xf32>
  return %out : tensor<1x4x8x32xf32>
}

// CHECK-LABEL: func.func @attention_all_operands
// CHECK-SAME: %[[BIAS:[a-z0-9]+]]: tensor<1x1x1x64xf16>, %[[SINK:[a-z0-9]+]]: tensor<8xf16>
// CHECK: rill.attention
// CHECK-SAME: mask(#rill.union<[#rill.sinks<4>, #rill.window<60>]>) scale(1.250000e-01) softcap(5.000000e+01) bias(%[[BIAS]] : tensor<1x1x1x64xf16>) sinks(%[[SINK]] : tensor<8xf16>) : tensor<2x8x1x64xf16>, tensor<2x8x64x64xf16>, tensor<2x8x64x64xf16> -> tensor<2x8x1x64xf16>
func.func @attention_all_operands(%q: tensor<2x8x1x64xf16>, %k: tensor<2x8x64x64xf16>,
                                  %v: tensor<2x8x64x64xf16>, %qpos: index,
                                  %kpos: index, %bias: tensor<1x1x1x64xf16>,
                                  %sink: tensor<8xf16>) -> tensor<2x8x1x64xf16> {
  %out = rill.attention %q, %k, %v at %qpos, %kpos
      mask(#rill.union<[#rill.sinks<4>, #rill.window<60>]>)
      scale(0.125) softcap(50.0)
      bias(%bias : tensor<1x1x1x64xf16>) sinks(%sink : tensor<8xf16>)
      : tensor<2x8x1x64xf16>, tensor<2x8x64x64xf16>, tensor<2x8x64x64xf16>
      -> tensor<2x8x1x64xf16>
  return %out : tensor<2x8x1x64xf16>
}

// Dynamic dimensions are unknown to the verifier.
// CHECK-LABEL: func.func @attention_dynamic
// CHECK: rill.attention {{.*}} mask(#rill.full) : tensor<?x?x?x?xf32>, tensor<?x2x?x16xf32>, tensor<?x?x?x?xf32> -> tensor<?x4x?x?xf32>
func.func @attention_dynamic(%q: tensor<?x?x?x?xf32>, %k: tensor<?x2x?x16xf32>,
                             %v: tensor<?x?x?x?xf32>, %pos: index)
    -> tensor<?x4x?x?xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.full)
      : tensor<?x?x?x?xf32>, tensor<?x2x?x16xf32>, tensor<?x?x?x?xf32>
      -> tensor<?x4x?x?xf32>
  return %out : tensor<?x4x?x?xf32>
}

// CHECK-LABEL: func.func @attention_per_head
// CHECK: mask(#rill.per_head<[#rill.causal, #rill.window<16>, #rill.bigbird<block = 4, global = 1, window = 3, random = 2, seed = 9, layer = 2, causal>, #rill.intersect<[#rill.chunked<8>, #rill.dilated<window = 4, dilation = 2>]>]>)
func.func @attention_per_head(%q: tensor<1x4x8x16xf32>, %k: tensor<1x1x8x16xf32>,
                              %v: tensor<1x1x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  %out = rill.attention %q, %k, %v at %pos, %pos
      mask(#rill.per_head<[#rill.causal, #rill.window<16>,
          #rill.bigbird<block = 4, global = 1, window = 3, random = 2, seed = 9, layer = 2, causal>,
          #rill.intersect<[#rill.chunked<8>, #rill.dilated<window = 4, dilation = 2>]>]>)
      : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}

// The causal window form prints as <W>; a two-sided window keeps its keys.
// CHECK-LABEL: func.func @mask_spellings
// CHECK-SAME: rill.a = #rill.window<4>
// CHECK-SAME: rill.b = #rill.window<left = 2, right = 1>
// CHECK-SAME: rill.c = #rill.window<left = 0, right = 5>
// CHECK-SAME: rill.d = #rill.bigbird<block = 64, global = 2, window = 3, random = 3, seed = 0>
// CHECK-SAME: rill.e = #rill.bigbird<block = 8, global = 0, window = 1, random = 1, seed = 18446744073709551615, causal>
// CHECK-SAME: rill.f = #rill.sinks<0>
func.func @mask_spellings() attributes {
    rill.a = #rill.window<left = 3, right = 0>,
    rill.b = #rill.window<left = 2, right = 1>,
    rill.c = #rill.window<left = 0, right = 5>,
    rill.d = #rill.bigbird<random = 3, window = 3, global = 2, block = 64>,
    rill.e = #rill.bigbird<block = 8, global = 0, window = 1, random = 1, seed = 18446744073709551615, causal>,
    rill.f = #rill.sinks<0>} {
  return
}

// CHECK-LABEL: func.func @rotary
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x8x16xf32>, %[[POS:.*]]: tensor<1x8xi64>, %[[COS:.*]]: tensor<128x4xf32>, %[[SIN:.*]]: tensor<128x4xf32>)
// CHECK: rill.rotary %[[X]] at %[[POS]] : tensor<2x4x8x16xf32>, tensor<1x8xi64>
// CHECK: rill.rotary %[[X]] at %[[POS]] {interleaved, rotary_dim = 8 : i64, theta = 5.000000e+05 : f64} : tensor<2x4x8x16xf32>, tensor<1x8xi64>
// CHECK: rill.rotary %[[X]] at %[[POS]] tables(%[[COS]], %[[SIN]] : tensor<128x4xf32>, tensor<128x4xf32>) {rotary_dim = 8 : i64} : tensor<2x4x8x16xf32>, tensor<1x8xi64>
func.func @rotary(%x: tensor<2x4x8x16xf32>, %pos: tensor<1x8xi64>,
                  %cos: tensor<128x4xf32>, %sin: tensor<128x4xf32>)
    -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %neox = rill.rotary %x at %pos : tensor<2x4x8x16xf32>, tensor<1x8xi64>
  %meta = rill.rotary %x at %pos {theta = 500000.0 : f64, rotary_dim = 8 : i64, interleaved}
      : tensor<2x4x8x16xf32>, tensor<1x8xi64>
  %cached = rill.rotary %x at %pos tables(%cos, %sin : tensor<128x4xf32>, tensor<128x4xf32>)
      {rotary_dim = 8 : i64} : tensor<2x4x8x16xf32>, tensor<1x8xi64>
  return %neox, %meta, %cached
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}
