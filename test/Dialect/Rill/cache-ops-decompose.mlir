// The reference lowering of the cache ops by rill-decompose-attention: one
// case per pattern, and the run-time scale for a dynamic head size.
// RUN: rill-opt %s -split-input-file --rill-decompose-attention | FileCheck %s

// The cache and the chunk are joined along the sequence, the queries along
// the channels; the attention over them is decomposed in place.
// CHECK-LABEL: func.func @cache_attention
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<1x8x3x8xf32>, %[[QS:[a-z0-9_]+]]: tensor<1x8x3x8xf32>, %[[K:[a-z0-9_]+]]: tensor<1x4x3x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x4x3x8xf32>, %[[KC:[a-z0-9_]+]]: tensor<1x4x16x8xf32>, %[[VC:[a-z0-9_]+]]: tensor<1x4x16x8xf32>
// CHECK-NOT: rill.
// CHECK-DAG: tensor.insert_slice %[[KC]] into %{{.*}}[0, 0, 0, 0] [1, 4, 16, 8] [1, 1, 1, 1] : tensor<1x4x16x8xf32> into tensor<1x4x19x8xf32>
// CHECK-DAG: tensor.insert_slice %[[K]] into %{{.*}}[0, 0, 16, 0] [1, 4, 3, 8] [1, 1, 1, 1] : tensor<1x4x3x8xf32> into tensor<1x4x19x8xf32>
// CHECK-DAG: tensor.insert_slice %[[QS]] into %{{.*}}[0, 0, 0, 8] [1, 8, 3, 8] [1, 1, 1, 1] : tensor<1x8x3x8xf32> into tensor<1x8x3x16xf32>
// CHECK-DAG: tensor.empty() : tensor<1x4x19x16xf32>
// CHECK-DAG: tensor.empty() : tensor<1x1x3x19xf32>
// CHECK: return %{{.*}} : tensor<1x8x3x8xf32>
func.func @cache_attention(%q: tensor<1x8x3x8xf32>, %qs: tensor<1x8x3x8xf32>,
                           %k: tensor<1x4x3x8xf32>, %v: tensor<1x4x3x8xf32>,
                           %kc: tensor<1x4x16x8xf32>, %vc: tensor<1x4x16x8xf32>,
                           %pos: tensor<1xi64>, %sinks: index, %cap: index)
    -> tensor<1x8x3x8xf32> {
  %out = rill.cache_attention %q, %qs, %k, %v, %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x8x3x8xf32>, tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>,
        tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1xi64>
      -> tensor<1x8x3x8xf32>
  return %out : tensor<1x8x3x8xf32>
}

// -----

// Without a scale attribute and with a dynamic head size, the joined
// queries are multiplied by rsqrt(D) at run time.
// CHECK-LABEL: func.func @cache_attention_dynamic_head_size
// CHECK: %[[CAST:.+]] = arith.index_castui %{{.*}} : index to i64
// CHECK: %[[FLOAT:.+]] = arith.uitofp %[[CAST]] : i64 to f32
// CHECK: math.rsqrt %[[FLOAT]] : f32
// CHECK-NOT: rill.
// CHECK: return
func.func @cache_attention_dynamic_head_size(
    %q: tensor<1x8x?x?xf32>, %k: tensor<1x4x?x?xf32>, %kc: tensor<1x4x?x?xf32>,
    %pos: tensor<1xi64>, %sinks: index, %cap: index) -> tensor<1x8x?x?xf32> {
  %out = rill.cache_attention %q, %q, %k, %k, %kc, %kc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x8x?x?xf32>, tensor<1x4x?x?xf32>, tensor<1x4x?x?xf32>,
        tensor<1x4x?x?xf32>, tensor<1x4x?x?xf32>, tensor<1xi64>
      -> tensor<1x8x?x?xf32>
  return %out : tensor<1x8x?x?xf32>
}

// -----

// Each cache becomes one elementwise generic over its slots that reads the
// chunk row mapped to the slot, or keeps the old element.
// CHECK-LABEL: func.func @cache_update
// CHECK-SAME: (%[[K:[a-z0-9_]+]]: tensor<1x4x?x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x4x?x4xf32>, %[[KC:[a-z0-9_]+]]: tensor<1x4x16x8xf32>, %[[VC:[a-z0-9_]+]]: tensor<1x4x16x4xf32>
// CHECK: %[[NK:.+]] = linalg.generic {{.*}} ins(%[[KC]] : tensor<1x4x16x8xf32>)
// CHECK: arith.remsi
// CHECK: tensor.extract %[[K]]
// CHECK: %[[NV:.+]] = linalg.generic {{.*}} ins(%[[VC]] : tensor<1x4x16x4xf32>)
// CHECK: tensor.extract %[[V]]
// CHECK: return %[[NK]], %[[NV]]
func.func @cache_update(%k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x4xf32>,
                        %kc: tensor<1x4x16x8xf32>, %vc: tensor<1x4x16x4xf32>,
                        %pos: tensor<1xi64>, %sinks: index, %cap: index)
    -> (tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32>) {
  %nk, %nv = rill.cache_update %k, %v into %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x4x?x8xf32>, tensor<1x4x?x4xf32>, tensor<1x4x16x8xf32>,
        tensor<1x4x16x4xf32>, tensor<1xi64>
  return %nk, %nv : tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32>
}
