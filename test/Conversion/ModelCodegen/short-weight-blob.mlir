// RUN: rill-opt %s --split-input-file --rill-model-codegen | FileCheck %s

// A dense_resource weight whose blob holds fewer elements than its type is
// not packed (it would be read out of bounds); the product still becomes
// the register-blocked kernel over the operand as it is.
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @short_blob
// CHECK-NOT: rill_packed_weight
// CHECK: vector.fma
func.func @short_blob(%x: tensor<4x2xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense_resource<short_weight> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x2xf32>, tensor<2x3xf32>) outs(%init : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      short_weight: "0x040000000000803F"
    }
  }
#-}

// -----

// An empty blob (alignment only) is not packed either.
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @empty_blob
// CHECK-NOT: rill_packed_weight
// CHECK: vector.fma
func.func @empty_blob(%x: tensor<4x2xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense_resource<empty_weight> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x2xf32>, tensor<2x3xf32>) outs(%init : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      empty_weight: "0x04000000"
    }
  }
#-}
