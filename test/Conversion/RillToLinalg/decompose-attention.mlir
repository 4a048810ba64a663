// RUN: rill-opt %s -split-input-file -rill-decompose-attention -verify-diagnostics | FileCheck %s

// Static GQA with every option. f16 operands are widened to f32 for the
// arithmetic and the result is rounded back once.

// CHECK-DAG:   #[[$SCORE_Q:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG:   #[[$SCORE_OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$ROW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @attention_all_options
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x3x8xf16>, %[[K:[a-z0-9]+]]: tensor<1x2x5x8xf16>, %[[V:[a-z0-9]+]]: tensor<1x2x5x6xf16>
// CHECK-SAME:    %[[BIAS:[a-z0-9]+]]: tensor<1x1x3x5xf16>, %[[SINKS:[a-z0-9]+]]: tensor<4xf16>
// CHECK-SAME:    %[[QPOS:[a-z0-9]+]]: index, %[[KPOS:[a-z0-9]+]]: index
// CHECK-DAG:     %[[HQ:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[HKV:.+]] = arith.constant 2 : index
// CHECK:         %[[GROUP:.+]] = arith.divui %[[HQ]], %[[HKV]] : index

// Scores: a contraction over d whose key operand is read at head h / group.
// CHECK:         %[[ZERO_SCORES:.+]] = linalg.fill {{.*}} -> tensor<1x4x3x5xf32>
// CHECK:         %[[SCORES:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$SCORE_Q]], #[[$SCORE_OUT]]]
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[Q]] : tensor<1x4x3x8xf16>) outs(%[[ZERO_SCORES]] : tensor<1x4x3x5xf32>)
// CHECK:           %[[B:.+]] = linalg.index 0 : index
// CHECK:           %[[H:.+]] = linalg.index 1 : index
// CHECK:           %[[J:.+]] = linalg.index 3 : index
// CHECK:           %[[D:.+]] = linalg.index 4 : index
// CHECK:           %[[KV_HEAD:.+]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK:           %[[KEY:.+]] = tensor.extract %[[K]][%[[B]], %[[KV_HEAD]], %[[J]], %[[D]]]
// CHECK:           arith.extf
// CHECK:           arith.extf %[[KEY]] : f16 to f32
// CHECK:           arith.mulf
// CHECK:           arith.addf

// Scale, softcap, broadcast bias, then the mask at stream positions.
// CHECK:         %[[MASKED:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[SCORES]] : tensor<1x4x3x5xf32>)
// CHECK:           %[[I:.+]] = linalg.index 2 : index
// CHECK:           %[[JJ:.+]] = linalg.index 3 : index
// CHECK:           %[[SCALED:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK:           %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
// CHECK:           %[[DIV:.+]] = arith.divf %[[SCALED]], %[[CAP]] : f32
// CHECK:           %[[TANH:.+]] = math.tanh %[[DIV]] : f32
// CHECK:           %[[CAPPED:.+]] = arith.mulf %[[CAP]], %[[TANH]] : f32
// CHECK:           %[[BIAS_ELEMENT:.+]] = tensor.extract %[[BIAS]][%{{.+}}, %{{.+}}, %[[I]], %[[JJ]]]
// CHECK:           %[[BIAS_F32:.+]] = arith.extf %[[BIAS_ELEMENT]] : f16 to f32
// CHECK:           %[[BIASED:.+]] = arith.addf %[[CAPPED]], %[[BIAS_F32]] : f32
// CHECK:           %[[QP:.+]] = arith.addi %[[QPOS]], %[[I]] : index
// CHECK:           %[[KP:.+]] = arith.addi %[[KPOS]], %[[JJ]] : index
// CHECK:           arith.cmpi slt, %[[KP]]
// CHECK:           arith.cmpi sle, %[[KP]], %[[QP]]
// CHECK:           %[[VISIBLE:.+]] = arith.ori
// CHECK:           %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:           %[[FINITE:.+]] = arith.cmpf ogt, %[[BIASED]], %[[NEG_INF]] : f32
// CHECK:           %[[KEEP:.+]] = arith.andi %[[VISIBLE]], %[[FINITE]] : i1
// CHECK:           %[[SELECTED:.+]] = arith.select %[[KEEP]], %[[BIASED]], %[[NEG_INF]] : f32
// CHECK:           linalg.yield %[[SELECTED]] : f32

// Row max from -inf.
// CHECK:         %[[MAX_INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x4x3xf32>)
// CHECK:         %[[ROW_MAX:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID4]], #[[$ROW]]]
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[MASKED]] : tensor<1x4x3x5xf32>) outs(%[[MAX_INIT]] : tensor<1x4x3xf32>)
// CHECK:           arith.maximumf

// The shift includes the sink logit and is 0 for empty rows.
// CHECK:         %[[SHIFT:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[ROW_MAX]] : tensor<1x4x3xf32>)
// CHECK:           %[[EMPTY_ROW:.+]] = arith.cmpf oeq
// CHECK:           %[[SINK:.+]] = tensor.extract %[[SINKS]]
// CHECK:           %[[SINK_F32:.+]] = arith.extf %[[SINK]] : f16 to f32
// CHECK:           %[[WITH_SINK:.+]] = arith.maximumf %{{.+}}, %[[SINK_F32]] : f32
// CHECK:           arith.select %[[EMPTY_ROW]], %{{.+}}, %[[WITH_SINK]] : f32

// Weights: exp of the shifted visible scores, 0 for hidden ones.
// CHECK:         %[[WEIGHTS:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[MASKED]], %[[SHIFT]] : tensor<1x4x3x5xf32>, tensor<1x4x3xf32>)
// CHECK:           %[[SHOWN:.+]] = arith.cmpf ogt
// CHECK:           %[[EXP:.+]] = math.exp
// CHECK:           arith.select %[[SHOWN]], %[[EXP]], %{{.+}} : f32

// CHECK:         %[[ROW_SUM:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[WEIGHTS]] : tensor<1x4x3x5xf32>)
// CHECK:           arith.addf

// Weighted values, again with the GQA head mapping.
// CHECK:         %[[WEIGHTED:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$SCORE_Q]], #[[$SCORE_OUT]]]
// CHECK-SAME:      ins(%[[WEIGHTS]] : tensor<1x4x3x5xf32>) outs(%{{.+}} : tensor<1x4x3x6xf32>)
// CHECK:           %[[VB:.+]] = linalg.index 0 : index
// CHECK:           %[[VH:.+]] = linalg.index 1 : index
// CHECK:           %[[VE:.+]] = linalg.index 3 : index
// CHECK:           %[[VJ:.+]] = linalg.index 4 : index
// CHECK:           %[[VKV:.+]] = arith.divui %[[VH]], %[[GROUP]] : index
// CHECK:           tensor.extract %[[V]][%[[VB]], %[[VKV]], %[[VJ]], %[[VE]]]

// Normalization: sink term in the denominator, zeros for empty rows, f16.
// CHECK:         %[[RESULT:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[WEIGHTED]], %[[ROW_MAX]], %[[SHIFT]], %[[ROW_SUM]] :
// CHECK-SAME:      outs(%{{.+}} : tensor<1x4x3x6xf16>)
// CHECK:           math.exp
// CHECK:           %[[DENOMINATOR:.+]] = arith.addf
// CHECK:           %[[QUOTIENT:.+]] = arith.divf %{{.+}}, %[[DENOMINATOR]] : f32
// CHECK:           %[[IS_EMPTY:.+]] = arith.cmpf oeq
// CHECK:           %[[ZEROED:.+]] = arith.select %[[IS_EMPTY]], %{{.+}}, %[[QUOTIENT]] : f32
// CHECK:           %[[ROUNDED:.+]] = arith.truncf %[[ZEROED]] : f32 to f16
// CHECK:           linalg.yield %[[ROUNDED]] : f16
// CHECK:         return %[[RESULT]]
// CHECK-NOT:     rill.attention
func.func @attention_all_options(%q: tensor<1x4x3x8xf16>, %k: tensor<1x2x5x8xf16>, %v: tensor<1x2x5x6xf16>, %bias: tensor<1x1x3x5xf16>, %sinks: tensor<4xf16>, %q_pos: index, %k_pos: index) -> tensor<1x4x3x6xf16> {
  %out = rill.attention %q, %k, %v at %q_pos, %k_pos
      mask(#rill.union<[#rill.sinks<2>, #rill.window<3>]>) scale(0.25) softcap(30.0)
      bias(%bias : tensor<1x1x3x5xf16>) sinks(%sinks : tensor<4xf16>)
      : tensor<1x4x3x8xf16>, tensor<1x2x5x8xf16>, tensor<1x2x5x6xf16> -> tensor<1x4x3x6xf16>
  return %out : tensor<1x4x3x6xf16>
}

// -----

// Dynamic shapes: the group size, the default scale 1 / sqrt(D) and the
// bias broadcast are computed at run time.

// CHECK-LABEL: func.func @attention_dynamic
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<?x?x?x?xf32>, %[[K:[a-z0-9]+]]: tensor<?x?x?x?xf32>, %[[V:[a-z0-9]+]]: tensor<?x?x?x?xf32>, %[[BIAS:[a-z0-9]+]]: tensor<?x?x?x?xf32>
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[HQ:.+]] = tensor.dim %[[Q]], %[[C1]]
// CHECK-DAG:     %[[HKV:.+]] = tensor.dim %[[K]], %[[C1]]
// CHECK:         arith.divui %[[HQ]], %[[HKV]] : index
// CHECK:         %[[D:.+]] = tensor.dim %[[Q]], %[[C3]]
// CHECK:         %[[D_I64:.+]] = arith.index_castui %[[D]] : index to i64
// CHECK:         %[[D_F32:.+]] = arith.uitofp %[[D_I64]] : i64 to f32
// CHECK:         %[[SCALE:.+]] = math.rsqrt %[[D_F32]] : f32
// CHECK:         %[[BATCH_IS_ONE:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK:         %[[HEADS_IS_ONE:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK:         linalg.generic
// CHECK:           %[[B:.+]] = linalg.index 0 : index
// CHECK:           %[[H:.+]] = linalg.index 1 : index
// CHECK:           arith.mulf %{{.+}}, %[[SCALE]] : f32
// CHECK:           %[[BIAS_B:.+]] = arith.select %[[BATCH_IS_ONE]], %{{.+}}, %[[B]] : index
// CHECK:           %[[BIAS_H:.+]] = arith.select %[[HEADS_IS_ONE]], %{{.+}}, %[[H]] : index
// CHECK:           tensor.extract %[[BIAS]][%[[BIAS_B]], %[[BIAS_H]], %{{.+}}, %{{.+}}]
// CHECK-NOT:     rill.attention
func.func @attention_dynamic(%q: tensor<?x?x?x?xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>, %bias: tensor<?x?x?x?xf32>, %q_pos: index, %k_pos: index) -> tensor<?x?x?x?xf32> {
  %out = rill.attention %q, %k, %v at %q_pos, %k_pos mask(#rill.causal)
      bias(%bias : tensor<?x?x?x?xf32>)
      : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32> -> tensor<?x?x?x?xf32>
  return %out : tensor<?x?x?x?xf32>
}

// -----

// Interleaved rotary with theta: pairs (2i, 2i + 1). cos and sin of every
// (batch, token, pair) come first, from angles in f64; the rotation reads
// them.

// CHECK-LABEL: func.func @rotary_interleaved_theta
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<?x?x?x?xf32>, %[[POS:[a-z0-9]+]]: tensor<1x?xi64>
// CHECK:         %[[RD:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x?x?x?xf32>
// CHECK:         %[[PAIRS:.+]] = arith.divui %[[RD]], %{{.+}} : index
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%{{.+}}, %[[PAIRS]]) : tensor<1x?x?xf32>
// CHECK:         %[[TABLES:.+]]:2 = linalg.generic
// CHECK-SAME:      outs(%[[EMPTY]], %[[EMPTY]] : tensor<1x?x?xf32>, tensor<1x?x?xf32>)
// CHECK:           %[[TB:.+]] = linalg.index 0 : index
// CHECK:           %[[TT:.+]] = linalg.index 1 : index
// CHECK:           %[[POSITION:.+]] = tensor.extract %[[POS]][%[[TB]], %[[TT]]] : tensor<1x?xi64>
// CHECK:           %[[THETA:.+]] = arith.constant 1.000000e+04 : f64
// CHECK:           %[[INV_FREQ:.+]] = math.powf %[[THETA]], %{{.+}} : f64
// CHECK:           %[[POSITION_F64:.+]] = arith.sitofp %[[POSITION]] : i64 to f64
// CHECK:           %[[ANGLE:.+]] = arith.mulf %[[POSITION_F64]], %[[INV_FREQ]] : f64
// CHECK:           %[[COS:.+]] = math.cos %[[ANGLE]] : f64
// CHECK:           %[[SIN:.+]] = math.sin %[[ANGLE]] : f64
// CHECK:           %[[COS_F32:.+]] = arith.truncf %[[COS]] : f64 to f32
// CHECK:           %[[SIN_F32:.+]] = arith.truncf %[[SIN]] : f64 to f32
// CHECK:           linalg.yield %[[COS_F32]], %[[SIN_F32]] : f32, f32
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]] : tensor<?x?x?x?xf32>)
// CHECK:         ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK:           %[[B:.+]] = linalg.index 0 : index
// CHECK:           %[[H:.+]] = linalg.index 1 : index
// CHECK:           %[[T:.+]] = linalg.index 2 : index
// CHECK:           %[[C:.+]] = linalg.index 3 : index
// CHECK:           %[[ROTATED:.+]] = arith.cmpi ult, %[[C]], %[[RD]] : index
// CHECK:           %[[PAIR:.+]] = arith.divui %[[C]], %{{.+}} : index
// CHECK:           %[[PARITY:.+]] = arith.remui %[[C]], %{{.+}} : index
// CHECK:           %[[FIRST:.+]] = arith.cmpi eq, %[[PARITY]], %{{.+}} : index
// CHECK:           %[[PARTNER:.+]] = arith.select %[[ROTATED]], %{{.+}}, %[[C]] : index
// CHECK:           %[[PAIR_INDEX:.+]] = arith.select %[[ROTATED]], %[[PAIR]], %{{.+}} : index
// CHECK:           %[[PARTNER_X:.+]] = tensor.extract %[[X]][%[[B]], %[[H]], %[[T]], %[[PARTNER]]]
// CHECK:           %[[TABLE_COS:.+]] = tensor.extract %[[TABLES]]#0[%{{.+}}, %[[T]], %[[PAIR_INDEX]]] : tensor<1x?x?xf32>
// CHECK:           %[[TABLE_SIN:.+]] = tensor.extract %[[TABLES]]#1[%{{.+}}, %[[T]], %[[PAIR_INDEX]]] : tensor<1x?x?xf32>
// CHECK-NOT:       math.cos
// CHECK:           %[[X_COS:.+]] = arith.mulf %[[IN]], %[[TABLE_COS]] : f32
// CHECK:           %[[PARTNER_SIN:.+]] = arith.mulf %[[PARTNER_X]], %[[TABLE_SIN]] : f32
// CHECK:           %[[FIRST_OUT:.+]] = arith.subf %[[X_COS]], %[[PARTNER_SIN]] : f32
// CHECK:           %[[SECOND_OUT:.+]] = arith.addf %[[X_COS]], %[[PARTNER_SIN]] : f32
// CHECK:           %[[PAIR_OUT:.+]] = arith.select %[[FIRST]], %[[FIRST_OUT]], %[[SECOND_OUT]] : f32
// CHECK:           %[[OUT:.+]] = arith.select %[[ROTATED]], %[[PAIR_OUT]], %[[IN]] : f32
// CHECK:           linalg.yield %[[OUT]] : f32
// CHECK-NOT:     rill.rotary
func.func @rotary_interleaved_theta(%x: tensor<?x?x?x?xf32>, %positions: tensor<1x?xi64>) -> tensor<?x?x?x?xf32> {
  %out = rill.rotary %x at %positions {interleaved} : tensor<?x?x?x?xf32>, tensor<1x?xi64>
  return %out : tensor<?x?x?x?xf32>
}

// -----

// Half-split rotary over the first 4 of 8 channels with f16 tables indexed
// by index positions.

// CHECK-LABEL: func.func @rotary_half_split_tables
// CHECK-SAME:    %[[X:[a-z0-9]+]]: tensor<2x4x3x8xf32>, %[[POS:[a-z0-9]+]]: tensor<2x3xindex>, %[[COS_TABLE:[a-z0-9]+]]: tensor<16x2xf16>, %[[SIN_TABLE:[a-z0-9]+]]: tensor<16x2xf16>
// CHECK:         %[[RD:.+]] = arith.constant 4 : index
// CHECK:         linalg.generic
// CHECK:           %[[B:.+]] = linalg.index 0 : index
// CHECK:           %[[T:.+]] = linalg.index 2 : index
// CHECK:           %[[C:.+]] = linalg.index 3 : index
// CHECK:           arith.cmpi ult, %[[C]], %[[RD]] : index
// CHECK:           %[[HALF:.+]] = arith.divui %[[RD]], %{{.+}} : index
// CHECK:           %[[FIRST:.+]] = arith.cmpi ult, %[[C]], %[[HALF]] : index
// CHECK:           %[[POSITION:.+]] = tensor.extract %[[POS]][%[[B]], %[[T]]] : tensor<2x3xindex>
// CHECK:           %[[COS:.+]] = tensor.extract %[[COS_TABLE]][%[[POSITION]], %[[PAIR:.+]]] : tensor<16x2xf16>
// CHECK:           %[[SIN:.+]] = tensor.extract %[[SIN_TABLE]][%[[POSITION]], %[[PAIR]]] : tensor<16x2xf16>
// CHECK:           arith.extf %[[COS]] : f16 to f32
// CHECK:           arith.extf %[[SIN]] : f16 to f32
// CHECK-NOT:       math.powf
// CHECK:           arith.select %[[FIRST]]
// CHECK-NOT:     rill.rotary
func.func @rotary_half_split_tables(%x: tensor<2x4x3x8xf32>, %positions: tensor<2x3xindex>, %cos: tensor<16x2xf16>, %sin: tensor<16x2xf16>) -> tensor<2x4x3x8xf32> {
  %out = rill.rotary %x at %positions tables(%cos, %sin : tensor<16x2xf16>, tensor<16x2xf16>) {rotary_dim = 4 : i64}
      : tensor<2x4x3x8xf32>, tensor<2x3xindex>
  return %out : tensor<2x4x3x8xf32>
}

// -----

func.func @attention_f8(%q: tensor<1x1x2x4xf8E4M3FN>, %k: tensor<1x1x2x4xf8E4M3FN>, %v: tensor<1x1x2x4xf8E4M3FN>, %p: index) -> tensor<1x1x2x4xf8E4M3FN> {
  // expected-error @+1 {{'rill.attention' op cannot be decomposed: expected f16, bf16, f32 or f64 elements (got f8E4M3FN)}}
  %out = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x1x2x4xf8E4M3FN>, tensor<1x1x2x4xf8E4M3FN>, tensor<1x1x2x4xf8E4M3FN> -> tensor<1x1x2x4xf8E4M3FN>
  return %out : tensor<1x1x2x4xf8E4M3FN>
}

// -----

func.func @attention_per_head_dynamic_heads(%q: tensor<1x?x2x4xf32>, %k: tensor<1x?x2x4xf32>, %v: tensor<1x?x2x4xf32>, %p: index) -> tensor<1x?x2x4xf32> {
  // expected-error @+1 {{'rill.attention' op cannot be decomposed: expected a static number of query heads with a per-head mask}}
  %out = rill.attention %q, %k, %v at %p, %p mask(#rill.per_head<[#rill.causal, #rill.full]>)
      : tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32> -> tensor<1x?x2x4xf32>
  return %out : tensor<1x?x2x4xf32>
}

// -----

func.func @rotary_f8(%x: tensor<1x1x2x4xf8E5M2>, %positions: tensor<1x2xi64>) -> tensor<1x1x2x4xf8E5M2> {
  // expected-error @+1 {{'rill.rotary' op cannot be decomposed: expected f16, bf16, f32 or f64 elements (got f8E5M2)}}
  %out = rill.rotary %x at %positions : tensor<1x1x2x4xf8E5M2>, tensor<1x2xi64>
  return %out : tensor<1x1x2x4xf8E5M2>
}

// -----

func.func @rotary_f8_tables(%x: tensor<1x1x2x4xf32>, %positions: tensor<1x2xi64>, %cos: tensor<8x2xf8E4M3FN>, %sin: tensor<8x2xf8E4M3FN>) -> tensor<1x1x2x4xf32> {
  // expected-error @+1 {{'rill.rotary' op cannot be decomposed: expected f16, bf16, f32 or f64 table elements (got f8E4M3FN)}}
  %out = rill.rotary %x at %positions tables(%cos, %sin : tensor<8x2xf8E4M3FN>, tensor<8x2xf8E4M3FN>)
      : tensor<1x1x2x4xf32>, tensor<1x2xi64>
  return %out : tensor<1x1x2x4xf32>
}
