// MatMul with batch broadcasting ([2, ?, 3, 4] x [4, 5]) and Gemm with
// transB and alpha.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py matmul %t.onnx
// RUN: rill-translate --import-onnx %t.onnx | FileCheck %s

// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @test_graph(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x3x4xf32>
// CHECK-SAME: %[[A:[^:]+]]: tensor<3x4xf32>
// CHECK-SAME: %[[B:[^:]+]]: tensor<6x4xf32>
// CHECK-SAME: -> (tensor<2x?x3x5xf32> {rill.name = "mm"}, tensor<3x6xf32> {rill.name = "gemm"})
// CHECK: %[[W:.+]] = arith.constant dense<1.000000e+00> : tensor<4x5xf32>
// CHECK: %[[FILL:.+]] = linalg.fill {{.*}} -> tensor<2x?x3x5xf32>
// CHECK: %[[MM:.+]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : {{.*}}) outs(%[[FILL]] :
// CHECK: %[[BT:.+]] = linalg.transpose ins(%[[B]] : tensor<6x4xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[PROD:.+]] = linalg.generic {{.*}} ins(%[[A]], %[[BT]] : tensor<3x4xf32>, tensor<4x6xf32>)
// CHECK: %[[SCALED:.+]] = linalg.generic {{.*}} ins(%[[PROD]] : tensor<3x6xf32>)
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: return %[[MM]], %[[SCALED]]
