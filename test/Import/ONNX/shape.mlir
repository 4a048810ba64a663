// Shape subgraphs fold at import time: Shape -> Gather -> Unsqueeze ->
// Concat feeds Reshape with the input's own sizes, and Reshape with
// [0, 0, -1] infers a static 8 because the unknown sizes cancel. Slice
// clamps INT64_MAX and walks negative steps; Split divides by num_outputs;
// Squeeze takes its axes from an input.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py shape_fold %t.fold.onnx
// RUN: rill-translate --import-onnx %t.fold.onnx | FileCheck %s --check-prefix=FOLD
// RUN: /usr/bin/python3 %S/Inputs/make_models.py slice_split %t.slice.onnx
// RUN: rill-translate --import-onnx %t.slice.onnx | FileCheck %s --check-prefix=SLICE

// FOLD-LABEL: func.func @test_graph(
// FOLD-SAME: %[[X:.+]]: tensor<?x?x8xf32> {rill.name = "x"}) -> (tensor<?x?x8xf32> {rill.name = "y"})
// FOLD-NOT: tensor.extract
// FOLD: %[[D0:.+]] = tensor.dim %[[X]], %c0
// FOLD: %[[D1:.+]] = tensor.dim %[[X]], %c1
// FOLD: %[[SHAPE4:.+]] = tensor.from_elements %[[D0]], %[[D1]], %c2, %c4 : tensor<4xindex>
// FOLD: %[[R4:.+]] = tensor.reshape %[[X]](%[[SHAPE4]]) : (tensor<?x?x8xf32>, tensor<4xindex>) -> tensor<?x?x2x4xf32>
// FOLD: %[[R3:.+]] = tensor.reshape %[[R4]]({{.*}}) : (tensor<?x?x2x4xf32>, tensor<3xindex>) -> tensor<?x?x8xf32>
// FOLD: return %[[R3]] : tensor<?x?x8xf32>

// SLICE-LABEL: func.func @test_graph(
// SLICE-SAME: %[[X:[^:]+]]: tensor<2x8xf32>
// SLICE-SAME: %[[X1:[^:]+]]: tensor<?x1x5xf32>
// SLICE: %[[SL:.+]] = tensor.extract_slice %[[X]][0, 5] [2, 3] [1, 1] : tensor<2x8xf32> to tensor<2x3xf32>
// SLICE: %[[REV:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<2x4xf32>)
// SLICE: arith.muli %{{.+}}, %c-2
// SLICE: tensor.extract %[[X]]
// SLICE: %[[P0:.+]] = tensor.extract_slice %[[X]][0, 0] [2, 3] [1, 1]
// SLICE: %[[P1:.+]] = tensor.extract_slice %[[X]][0, 3] [2, 3] [1, 1]
// SLICE: %[[P2:.+]] = tensor.extract_slice %[[X]][0, 6] [2, 2] [1, 1]
// SLICE: %[[SQ:.+]] = tensor.collapse_shape %[[X1]] {{\[}}[0], [1, 2]] : tensor<?x1x5xf32> into tensor<?x5xf32>
// SLICE: return %[[SL]], %[[REV]], %[[P0]], %[[P1]], %[[P2]], %[[SQ]]
