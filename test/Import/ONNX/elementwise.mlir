// Elementwise ONNX operators with numpy broadcasting: Add of [?, 4] and
// [4], tanh Gelu, Greater, Where and Cast, each a linalg.generic.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py elementwise %t.onnx
// RUN: rill-translate --import-onnx %t.onnx | FileCheck %s

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @test_graph(
// CHECK-SAME: %[[X:.+]]: tensor<?x4xf32> {rill.name = "x"}) -> (tensor<?x4xi64> {rill.name = "y"})
// CHECK: %[[B:.+]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK: %[[ADD:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]{{.*}} ins(%[[X]], %[[B]] : tensor<?x4xf32>, tensor<4xf32>)
// CHECK: arith.addf
// CHECK: %[[GELU:.+]] = linalg.generic {{.*}} ins(%[[ADD]] : tensor<?x4xf32>)
// CHECK: math.tanh
// CHECK: %[[GT:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]{{.*}} outs(%{{.+}} : tensor<?x4xi1>)
// CHECK: arith.cmpf ogt
// CHECK: %[[WHERE:.+]] = linalg.generic {{.*}} ins(%[[GT]], %[[GELU]], %{{.+}} : tensor<?x4xi1>, tensor<?x4xf32>, tensor<f32>)
// CHECK: arith.select
// CHECK: %[[CAST:.+]] = linalg.generic {{.*}} ins(%[[WHERE]] : tensor<?x4xf32>) outs(%{{.+}} : tensor<?x4xi64>)
// CHECK: arith.fptosi
// CHECK: return %[[CAST]] : tensor<?x4xi64>
