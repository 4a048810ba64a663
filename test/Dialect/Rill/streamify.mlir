// rill-streamify on hand-written fused decoders: a plain full-sequence
// model, the optimum past/present layout with a padding bias, rotary
// tables turned back into theta, a learned absolute table under
// position-policy=clamped-absolute and the dense-within-chunk prefill.
// RUN: rill-opt %s -split-input-file --rill-streamify="sinks=4 window=60" | FileCheck %s

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[IDS:[a-z0-9_]+]]: tensor<?x?xi64> {rill.name = "input_ids"}, %[[POS:[a-z0-9_]+]]: tensor<?xi64> {rill.name = "positions"}, %[[SINKS:[a-z0-9_]+]]: index {rill.name = "sinks"}, %[[CAP:[a-z0-9_]+]]: index {rill.name = "capacity"}, %[[KC:[a-z0-9_]+]]: tensor<?x?x?x?xf32> {rill.name = "key_cache_0"}, %[[VC:[a-z0-9_]+]]: tensor<?x?x?x?xf32> {rill.name = "value_cache_0"})
// CHECK-SAME: -> (tensor<?x2x?x4xf32> {rill.name = "logits"}, tensor<?x?x?x?xf32> {rill.name = "key_cache_0"}, tensor<?x?x?x?xf32> {rill.name = "value_cache_0"})
// CHECK-SAME: attributes {rill.streaming.capacity = 64 : i64, rill.streaming.policy = "sinks", rill.streaming.position_policy = "rotary", rill.streaming.prefill = "mask-exact", rill.streaming.sinks = 4 : i64}
// CHECK: %[[STREAM:.+]] = linalg.generic
// CHECK: arith.addi
// CHECK: %[[SINKPOS:.+]] = linalg.generic
// CHECK: arith.minsi
// CHECK: %[[X:.+]] = linalg.generic
// CHECK: %[[Q:.+]] = rill.rotary %[[X]] at %[[STREAM]] {rotary_dim = 4 : i64}
// CHECK: %[[QS:.+]] = rill.rotary %[[X]] at %[[SINKPOS]] {rotary_dim = 4 : i64}
// CHECK: %[[K:.+]] = rill.rotary %[[X]] at %[[STREAM]] {rotary_dim = 4 : i64}
// CHECK: %[[OUT:.+]] = rill.cache_attention %[[Q]], %[[QS]], %[[K]], %[[X]], %[[KC]], %[[VC]] at %[[POS]] sinks(%[[SINKS]]) capacity(%[[CAP]]) scale(5.000000e-01)
// CHECK: %[[NK:.+]], %[[NV:.+]] = rill.cache_update %[[K]], %[[X]] into %[[KC]], %[[VC]] at %[[POS]] sinks(%[[SINKS]]) capacity(%[[CAP]])
// CHECK: return %[[OUT]], %[[NK]], %[[NV]]
func.func @plain_decoder(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
                         %pos: tensor<?x?xi64> {rill.name = "position_ids"})
    -> (tensor<?x2x?x4xf32> {rill.name = "logits"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %empty = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(b, h, t, d) -> (b, t)>,
                                        affine_map<(b, h, t, d) -> (b, h, t, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ids : tensor<?x?xi64>) outs(%empty : tensor<?x2x?x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %f = arith.sitofp %in : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x2x?x4xf32>
  %q = rill.rotary %x at %pos : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %k = rill.rotary %x at %pos : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %a = rill.attention %q, %k, %x at %c0, %c0 mask(#rill.causal)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a : tensor<?x2x?x4xf32>
}

// -----

// The optimum layout: past arguments, presents, and a padding bias from
// attention_mask, which all disappear.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[IDS:[a-z0-9_]+]]: tensor<?x?xi64> {rill.name = "input_ids"}, %[[POS:[a-z0-9_]+]]: tensor<?xi64> {rill.name = "positions"}, %{{.*}}: index {rill.name = "sinks"}, %{{.*}}: index {rill.name = "capacity"}, %[[KC:[a-z0-9_]+]]: tensor<?x?x?x?xf32> {rill.name = "key_cache_0"}, %[[VC:[a-z0-9_]+]]: tensor<?x?x?x?xf32> {rill.name = "value_cache_0"})
// CHECK-SAME: -> (tensor<?x2x?x4xf32> {rill.name = "logits"}, tensor<?x?x?x?xf32> {rill.name = "key_cache_0"}, tensor<?x?x?x?xf32> {rill.name = "value_cache_0"})
// CHECK-NOT: tensor.concat
// CHECK: rill.cache_attention
// CHECK-NOT: bias
// CHECK: rill.cache_update
// CHECK-NOT: tensor.concat
func.func @optimum_decoder(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
                           %mask: tensor<?x?xi64> {rill.name = "attention_mask"},
                           %pos: tensor<?x?xi64> {rill.name = "position_ids"},
                           %pk: tensor<?x2x?x4xf32> {rill.name = "past_key_values.0.key"},
                           %pv: tensor<?x2x?x4xf32> {rill.name = "past_key_values.0.value"})
    -> (tensor<?x2x?x4xf32> {rill.name = "logits"},
        tensor<?x2x?x4xf32> {rill.name = "present.0.key"},
        tensor<?x2x?x4xf32> {rill.name = "present.0.value"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %past = tensor.dim %pk, %c2 : tensor<?x2x?x4xf32>
  %all = tensor.dim %mask, %c1 : tensor<?x?xi64>
  %empty = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(b, h, t, d) -> (b, t)>,
                                        affine_map<(b, h, t, d) -> (b, h, t, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ids : tensor<?x?xi64>) outs(%empty : tensor<?x2x?x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %f = arith.sitofp %in : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x2x?x4xf32>
  %q = rill.rotary %x at %pos : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %k = rill.rotary %x at %pos : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %keys = tensor.concat dim(2) %pk, %k
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %values = tensor.concat dim(2) %pv, %x
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %bias_empty = tensor.empty(%b, %t, %all) : tensor<?x1x?x?xf32>
  %bias = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, j)>,
                                           affine_map<(b, h, i, j) -> (b, h, i, j)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%mask : tensor<?x?xi64>) outs(%bias_empty : tensor<?x1x?x?xf32>) {
  ^bb0(%in: i64, %out: f32):
    %zero = arith.constant 0 : i64
    %keep = arith.cmpi ne, %in, %zero : i64
    %f0 = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %v = arith.select %keep, %f0, %ninf : f32
    linalg.yield %v : f32
  } -> tensor<?x1x?x?xf32>
  %a = rill.attention %q, %keys, %values at %past, %c0 mask(#rill.causal)
      bias(%bias : tensor<?x1x?x?xf32>)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a, %keys, %values : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

// -----

// Rotary tables generated with theta = 10000 become theta-based rotary ops.
// CHECK-LABEL: func.func @step
// CHECK-NOT: tables(
// CHECK: rill.rotary %{{.*}} at %{{.*}} {rotary_dim = 4 : i64}
// CHECK-NOT: tables(
// CHECK: rill.cache_attention
func.func @table_decoder(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
                         %pos: tensor<?x?xi64> {rill.name = "position_ids"})
    -> tensor<?x2x?x4xf32> {
  %cos = arith.constant dense<[[1.0000000e+00, 1.0000000e+00], [5.4030228e-01, 9.9994999e-01], [-4.1614684e-01, 9.9980003e-01], [-9.8999250e-01, 9.9955004e-01], [-6.5364361e-01, 9.9920011e-01], [2.8366220e-01, 9.9875027e-01], [9.6017027e-01, 9.9820054e-01], [7.5390226e-01, 9.9755102e-01]]> : tensor<8x2xf32>
  %sin = arith.constant dense<[[0.0000000e+00, 0.0000000e+00], [8.4147096e-01, 9.9998331e-03], [9.0929741e-01, 1.9998666e-02], [1.4112000e-01, 2.9995501e-02], [-7.5680250e-01, 3.9989334e-02], [-9.5892429e-01, 4.9979169e-02], [-2.7941549e-01, 5.9964005e-02], [6.5698659e-01, 6.9942847e-02]]> : tensor<8x2xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %empty = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(b, h, t, d) -> (b, t)>,
                                        affine_map<(b, h, t, d) -> (b, h, t, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ids : tensor<?x?xi64>) outs(%empty : tensor<?x2x?x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %f = arith.sitofp %in : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x2x?x4xf32>
  %q = rill.rotary %x at %pos tables(%cos, %sin : tensor<8x2xf32>, tensor<8x2xf32>)
      : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %k = rill.rotary %x at %pos tables(%cos, %sin : tensor<8x2xf32>, tensor<8x2xf32>)
      : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %a = rill.attention %q, %k, %x at %c0, %c0 mask(#rill.causal)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a : tensor<?x2x?x4xf32>
}
