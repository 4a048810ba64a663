// ReduceMean with opset-18 input axes and keepdims=0, Softmax over one
// axis (opset 13 and later) and over all trailing axes (opset 11's
// coerce-to-2D semantics), and LayerNormalization.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py reductions %t.onnx
// RUN: rill-translate --import-onnx %t.onnx | FileCheck %s
// RUN: /usr/bin/python3 %S/Inputs/make_models.py softmax11 %t.11.onnx
// RUN: rill-translate --import-onnx %t.11.onnx | FileCheck %s --check-prefix=SOFTMAX11

// CHECK-LABEL: func.func @test_graph(
// CHECK-SAME: -> (tensor<?x4xf32> {rill.name = "mean"}, tensor<?x4x8xf32> {rill.name = "sm"}, tensor<?x4x8xf32> {rill.name = "ln"})
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<?x4x8xf32>) outs(%{{.+}} : tensor<?x4xf32>)
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<?x4xf32>)
// CHECK: arith.divf %{{.+}}, %cst
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<?x4x8xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape {{.*}} into tensor<?x4x1xf32>
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: math.rsqrt
// CHECK: return

// SOFTMAX11-LABEL: func.func @test_graph(
// SOFTMAX11: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]} ins(%arg0 : tensor<2x3x4xf32>) outs(%{{.+}} : tensor<2xf32>)
// SOFTMAX11: arith.maximumf
// SOFTMAX11: tensor.expand_shape %{{.+}} {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
