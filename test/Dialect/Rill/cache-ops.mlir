// Round trip of rill.cache_attention and rill.cache_update through the
// custom and the generic assembly.
// RUN: rill-opt %s | rill-opt | FileCheck %s
// RUN: rill-opt -mlir-print-op-generic %s | rill-opt | FileCheck %s

// CHECK-LABEL: func.func @cache_attention_minimal
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<1x8x?x8xf32>, %[[QS:[a-z0-9_]+]]: tensor<1x8x?x8xf32>, %[[K:[a-z0-9_]+]]: tensor<1x4x?x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x4x?x8xf32>, %[[KC:[a-z0-9_]+]]: tensor<1x4x64x8xf32>, %[[VC:[a-z0-9_]+]]: tensor<1x4x64x8xf32>, %[[POS:[a-z0-9_]+]]: tensor<1xi64>, %[[SINKS:[a-z0-9_]+]]: index, %[[CAP:[a-z0-9_]+]]: index)
// CHECK: rill.cache_attention %[[Q]], %[[QS]], %[[K]], %[[V]], %[[KC]], %[[VC]] at %[[POS]] sinks(%[[SINKS]]) capacity(%[[CAP]]) : tensor<1x8x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x?x8xf32>
func.func @cache_attention_minimal(
    %q: tensor<1x8x?x8xf32>, %qs: tensor<1x8x?x8xf32>, %k: tensor<1x4x?x8xf32>,
    %v: tensor<1x4x?x8xf32>, %kc: tensor<1x4x64x8xf32>, %vc: tensor<1x4x64x8xf32>,
    %pos: tensor<1xi64>, %sinks: index, %cap: index) -> tensor<1x8x?x8xf32> {
  %out = rill.cache_attention %q, %qs, %k, %v, %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x8x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64>
      -> tensor<1x8x?x8xf32>
  return %out : tensor<1x8x?x8xf32>
}



// CHECK-LABEL: func.func @cache_attention_all_operands
// CHECK-SAME: %[[LOGITS:[a-z0-9_]+]]: tensor<8xf32>
// CHECK: rill.cache_attention
// CHECK-SAME: scale(2.500000e-01) softcap(3.000000e+01) sink_logits(%[[LOGITS]] : tensor<8xf32>) {dense_within_chunk} : tensor<?x8x?x16xf32>, tensor<?x?x?x16xf32>, tensor<?x?x?x32xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?xi64> -> tensor<?x8x?x32xf32>
func.func @cache_attention_all_operands(
    %q: tensor<?x8x?x16xf32>, %k: tensor<?x?x?x16xf32>, %v: tensor<?x?x?x32xf32>,
    %kc: tensor<?x?x?x?xf32>, %vc: tensor<?x?x?x?xf32>, %pos: tensor<?xi64>,
    %sinks: index, %cap: index, %logits: tensor<8xf32>) -> tensor<?x8x?x32xf32> {
  %out = rill.cache_attention %q, %q, %k, %v, %kc, %vc at %pos
      sinks(%sinks) capacity(%cap) scale(0.25) softcap(30.0)
      sink_logits(%logits : tensor<8xf32>) {dense_within_chunk}
      : tensor<?x8x?x16xf32>, tensor<?x?x?x16xf32>, tensor<?x?x?x32xf32>,
        tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?xi64>
      -> tensor<?x8x?x32xf32>
  return %out : tensor<?x8x?x32xf32>
}

// CHECK-LABEL: func.func @cache_update
// CHECK-SAME: (%[[K:[a-z0-9_]+]]: tensor<2x4x?x8xf32>, %[[V:[a-z0-9_]+]]: tensor<2x4x?x4xf32>, %[[KC:[a-z0-9_]+]]: tensor<2x4x?x8xf32>, %[[VC:[a-z0-9_]+]]: tensor<2x4x?x4xf32>, %[[POS:[a-z0-9_]+]]: tensor<2xi64>
// CHECK: %{{.*}}, %{{.*}} = rill.cache_update %[[K]], %[[V]] into %[[KC]], %[[VC]] at %[[POS]] sinks(%{{.*}}) capacity(%{{.*}}) : tensor<2x4x?x8xf32>, tensor<2x4x?x4xf32>, tensor<2x4x?x8xf32>, tensor<2x4x?x4xf32>, tensor<2xi64>
func.func @cache_update(%k: tensor<2x4x?x8xf32>, %v: tensor<2x4x?x4xf32>,
                        %kc: tensor<2x4x?x8xf32>, %vc: tensor<2x4x?x4xf32>,
                        %pos: tensor<2xi64>, %sinks: index, %cap: index)
    -> (tensor<2x4x?x8xf32>, tensor<2x4x?x4xf32>) {
  %nk, %nv = rill.cache_update %k, %v into %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<2x4x?x8xf32>, tensor<2x4x?x4xf32>, tensor<2x4x?x8xf32>,
        tensor<2x4x?x4xf32>, tensor<2xi64>
  return %nk, %nv : tensor<2x4x?x8xf32>, tensor<2x4x?x4xf32>
}
