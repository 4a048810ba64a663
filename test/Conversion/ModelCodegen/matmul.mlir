// RUN: rill-opt %s --split-input-file --rill-model-codegen | FileCheck %s
// RUN: rill-opt %s --split-input-file --rill-model-codegen="parallel=false" | FileCheck %s --check-prefix=SEQ

// A MatMul as the ONNX importer writes it: the reduction becomes a loop
// over K carrying 6 x 2 accumulator vectors, with broadcast rows and
// weight vectors; 44 columns are two blocks of 16 and a tail of 12, whose
// second vector has 4 lanes.
#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: memref.load
// CHECK: vector.broadcast
// CHECK: vector.fma
// CHECK: vector.store
// The tail block stores its last vector under a mask.
// CHECK: vector.maskedstore
// CHECK: bufferization.to_tensor
// SEQ-LABEL: func.func @matmul
// SEQ-NOT: scf.parallel
// SEQ: vector.fma
func.func @matmul(%x: tensor<?x?x64xf32>, %w: tensor<64x44xf32>, %init: tensor<?x?x44xf32>) -> tensor<?x?x44xf32> {
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x?x64xf32>, tensor<64x44xf32>) outs(%init : tensor<?x?x44xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x44xf32>
  return %r : tensor<?x?x44xf32>
}

// -----

// linalg.matmul has the same loops and maps.
// CHECK-LABEL: func.func @named_matmul
// CHECK-NOT: linalg.matmul
// CHECK: vector.fma
func.func @named_matmul(%x: tensor<5x16xf32>, %w: tensor<16x8xf32>, %init: tensor<5x8xf32>) -> tensor<5x8xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<5x16xf32>, tensor<16x8xf32>) outs(%init : tensor<5x8xf32>) -> tensor<5x8xf32>
  return %r : tensor<5x8xf32>
}

// -----

// Preconditions: each of these keeps its linalg op.
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#rhs_t = affine_map<(m, n, k) -> (n, k)>
#out = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @transposed_weight
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @transposed_weight(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.generic {indexing_maps = [#lhs, #rhs_t, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x16xf32>, tensor<8x16xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @dynamic_weight
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @dynamic_weight(%x: tensor<4x?xf32>, %w: tensor<?x8xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x?xf32>, tensor<?x8xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @f64_elements
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @f64_elements(%x: tensor<4x16xf64>, %w: tensor<16x8xf64>, %init: tensor<4x8xf64>) -> tensor<4x8xf64> {
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x16xf64>, tensor<16x8xf64>) outs(%init : tensor<4x8xf64>) {
  ^bb0(%a: f64, %b: f64, %c: f64):
    %p = arith.mulf %a, %b : f64
    %s = arith.addf %c, %p : f64
    linalg.yield %s : f64
  } -> tensor<4x8xf64>
  return %r : tensor<4x8xf64>
}

// CHECK-LABEL: func.func @not_multiply_accumulate
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @not_multiply_accumulate(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x16xf32>, tensor<16x8xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.addf %a, %b : f32
    %s = arith.maximumf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @weight_with_batch
// CHECK: linalg.batch_matmul
// CHECK-NOT: vector.fma
func.func @weight_with_batch(%x: tensor<2x4x16xf32>, %w: tensor<2x16x8xf32>, %init: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %r = linalg.batch_matmul ins(%x, %w : tensor<2x4x16xf32>, tensor<2x16x8xf32>) outs(%init : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %r : tensor<2x4x8xf32>
}
