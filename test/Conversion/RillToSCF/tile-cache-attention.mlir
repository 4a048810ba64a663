// rill-tile-attention lowers rill.cache_attention to the tiled kernel that
// reads the cache and the chunk where they are (no joined keys, no bias
// tensor, no doubled query channels), and rill.cache_update to row writes
// into the incoming cache.
// RUN: rill-opt %s -split-input-file --rill-tile-attention | FileCheck %s

// The kernel reads the seven operands as read-only buffers, walks the
// segments in one parallel loop and allocates only its output.
// CHECK-LABEL: func.func @cache_attention
// CHECK-NOT: rill.cache_attention
// CHECK-NOT: rill.attention
// CHECK-NOT: tensor.insert_slice
// CHECK-NOT: tensor.empty
// CHECK-COUNT-7: bufferization.to_buffer %{{.*}} read_only
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x8x3x8xf32>
// CHECK: scf.parallel
// The ring arithmetic: the newest window slot from the chunk start.
// CHECK: arith.remsi
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

// f64 elements are outside the tiled kernel: the op stays for
// rill-decompose-attention.
// CHECK-LABEL: func.func @cache_attention_f64
// CHECK: rill.cache_attention
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

// -----

// One row write per chunk row and cache, into loop-carried caches that start
// as the incoming ones: sink positions keep their slot, the others go to
// sinks + (p - sinks) mod (capacity - sinks).
// CHECK-LABEL: func.func @cache_update
// CHECK-NOT: rill.cache_update
// CHECK: %[[W:.*]] = arith.subi %arg6, %arg5 : index
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %arg2, %{{.*}} = %arg3)
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: arith.cmpi slt, %{{.*}}, %arg5 : index
// CHECK: arith.remsi %{{.*}}, %[[W]] : index
// CHECK: tensor.extract_slice %arg0[%[[B]], 0, %[[J]], 0] [1, 2, 1, 4] [1, 1, 1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[B]], 0, %{{.*}}, 0] [1, 2, 1, 4] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %arg1[%[[B]], 0, %[[J]], 0] [1, 2, 1, 4] [1, 1, 1, 1]
// CHECK: tensor.insert_slice
func.func @cache_update(%k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>,
                        %kc: tensor<1x2x8x4xf32>, %vc: tensor<1x2x8x4xf32>,
                        %pos: tensor<1xi64>, %sinks: index, %cap: index)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %nk, %nv = rill.cache_update %k, %v into %kc, %vc at %pos
      sinks(%sinks) capacity(%cap)
      : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x8x4xf32>,
        tensor<1x2x8x4xf32>, tensor<1xi64>
  return %nk, %nv : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
