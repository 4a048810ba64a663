// rill-tile-attention lowers a rill.cache_attention through the
// rill.attention it stands for: cache and chunk keys joined, the streaming
// visibility as a bias, then the tiled kernel over them.
// RUN: rill-opt %s -split-input-file --rill-tile-attention | FileCheck %s

// CHECK-LABEL: func.func @cache_attention
// CHECK-NOT: rill.cache_attention
// CHECK-NOT: rill.attention
// CHECK-DAG: tensor.insert_slice %{{.*}}[0, 0, 16, 0] [1, 4, 3, 8] [1, 1, 1, 1] : tensor<1x4x3x8xf32> into tensor<1x4x19x8xf32>
// CHECK-DAG: tensor.empty() : tensor<1x1x3x19xf32>
// CHECK: scf.parallel
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

// f64 elements are outside the tiled kernel: the joined rill.attention
// stays for rill-decompose-attention.
// CHECK-LABEL: func.func @cache_attention_f64
// CHECK-NOT: rill.cache_attention
// CHECK: rill.attention
func.func @cache_attention_f64(%q: tensor<1x2x1x4xf64>, %qs: tensor<1x2x1x4xf64>,
                               %k: tensor<1x2x1x4xf64>, %v: tensor<1x2x1x4xf64>,
                               %kc: tensor<1x2x8x4xf64>, %vc: tensor<1x2x8x4xf64>,
                               %pos: tensor<1xi64>, %sinks: index, %cap: index)
    -> tensor<1x2x1x4xf64> {
  %out = rill.cache_attention %q, %qs, %k, %v, %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x2x1x4xf64>, tensor<1x2x1x4xf64>, tensor<1x2x1x4xf64>,
        tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>, tensor<1xi64>
      -> tensor<1x2x1x4xf64>
  return %out : tensor<1x2x1x4xf64>
}
