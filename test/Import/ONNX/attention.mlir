// Attention operators become rill.attention and rill.rotary: opset-23
// Attention (4-D with a past cache, 3-D with a boolean mask), ONNX
// Runtime's GroupQueryAttention (batch 1 with a local window and rotary
// tables, batch 2 with packed QKV and a per-row bias), RotaryEmbedding and
// MultiHeadAttention.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py attention23 %t.a.onnx
// RUN: rill-translate --import-onnx %t.a.onnx | FileCheck %s --check-prefix=ATT4D
// RUN: /usr/bin/python3 %S/Inputs/make_models.py attention23_3d_mask %t.b.onnx
// RUN: rill-translate --import-onnx %t.b.onnx | FileCheck %s --check-prefix=ATT3D
// RUN: /usr/bin/python3 %S/Inputs/make_models.py gqa_window %t.c.onnx
// RUN: rill-translate --import-onnx %t.c.onnx | FileCheck %s --check-prefix=GQA
// RUN: /usr/bin/python3 %S/Inputs/make_models.py gqa_packed_bias %t.d.onnx
// RUN: rill-translate --import-onnx %t.d.onnx | FileCheck %s --check-prefix=GQA-PACKED
// RUN: /usr/bin/python3 %S/Inputs/make_models.py rotary %t.e.onnx
// RUN: rill-translate --import-onnx %t.e.onnx | FileCheck %s --check-prefix=ROTARY
// RUN: /usr/bin/python3 %S/Inputs/make_models.py gqa_unsupported %t.f.onnx
// RUN: not rill-translate --import-onnx %t.f.onnx 2>&1 | FileCheck %s --check-prefix=GQA-REJECT

// ATT4D-LABEL: func.func @test_graph(
// ATT4D-SAME: %[[Q:[^:]+]]: tensor<?x4x?x8xf32>
// ATT4D-SAME: %[[K:[^:]+]]: tensor<?x2x?x8xf32>
// ATT4D-SAME: %[[V:[^:]+]]: tensor<?x2x?x8xf32>
// ATT4D-SAME: %[[PK:[^:]+]]: tensor<?x2x?x8xf32>
// ATT4D-SAME: %[[PV:[^:]+]]: tensor<?x2x?x8xf32>
// ATT4D-DAG: %[[PAST:.+]] = tensor.dim %[[PK]], %c2
// ATT4D-DAG: %[[KEYS:.+]] = tensor.concat dim(2) %[[PK]], %[[K]]
// ATT4D-DAG: %[[VALUES:.+]] = tensor.concat dim(2) %[[PV]], %[[V]]
// ATT4D: %[[Y:.+]] = rill.attention %[[Q]], %[[KEYS]], %[[VALUES]] at %[[PAST]], %c0{{.*}} mask(#rill.causal) scale(2.500000e-01) softcap(3.000000e+01)
// ATT4D: return %[[Y]], %[[KEYS]], %[[VALUES]]

// ATT3D-LABEL: func.func @test_graph(
// ATT3D: tensor.reshape %arg0({{.*}}) -> tensor<?x?x4x8xf32>
// ATT3D: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
// ATT3D: arith.constant 0xFF800000 : f32
// ATT3D: %[[BIAS:.+]] = tensor.expand_shape {{.*}} into tensor<1x1x?x?xf32>
// ATT3D: rill.attention {{.*}} mask(#rill.full) bias(%[[BIAS]] : tensor<1x1x?x?xf32>) : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x4x?x8xf32>
// ATT3D: tensor.reshape {{.*}} -> tensor<?x?x32xf32>

// GQA-LABEL: func.func @test_graph(
// GQA: %[[COS:.+]] = arith.constant dense_resource<cos> : tensor<64x4xf32>
// GQA: %[[SIN:.+]] = arith.constant dense_resource<sin> : tensor<64x4xf32>
// GQA: rill.rotary %{{.+}} at %[[POS:.+]] tables(%[[COS]], %[[SIN]] : tensor<64x4xf32>, tensor<64x4xf32>) {rotary_dim = 8 : i64} : tensor<1x4x?x8xf32>, tensor<1x?xi64>
// GQA: rill.rotary %{{.+}} at %[[POS]] tables(%[[COS]], %[[SIN]] {{.*}} : tensor<1x2x?x8xf32>, tensor<1x?xi64>
// GQA: %[[QPOS:.+]] = tensor.extract %{{.+}}[%c0{{.*}}] : tensor<1xindex>
// GQA: rill.attention {{.*}} at %[[QPOS]], %c0{{.*}} mask(#rill.window<16>) : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x4x?x8xf32>

// GQA-PACKED-LABEL: func.func @test_graph(
// GQA-PACKED-DAG: tensor.extract_slice %arg0[0, 0, 0] [2, %{{.+}}, 32] [1, 1, 1]
// GQA-PACKED-DAG: tensor.extract_slice %arg0[0, 0, 32] [2, %{{.+}}, 16] [1, 1, 1]
// GQA-PACKED-DAG: tensor.extract_slice %arg0[0, 0, 48] [2, %{{.+}}, 16] [1, 1, 1]
// GQA-PACKED: rill.attention {{.*}} mask(#rill.full) softcap(5.000000e+00) bias(%{{.+}} : tensor<2x1x?x?xf32>)

// ROTARY-LABEL: func.func @test_graph(
// ROTARY: rill.rotary %{{.+}} at %arg1 tables({{.*}}) {interleaved, rotary_dim = 8 : i64} : tensor<?x2x?x8xf32>, tensor<?x?xi64>
// ROTARY: rill.attention {{.*}} mask(#rill.causal) : tensor<?x2x?x8xf32>

// GQA-REJECT: error: node 'gqa_pos' (GroupQueryAttention): the position_ids and attention_bias inputs are not supported
