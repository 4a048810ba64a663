// Each case is one attention subgraph in the form the ONNX importer emits
// (elementwise linalg.generic ops, expand_shape for keepdims), with static
// shapes B=1, H=2, Tq=3, Tk=5, D=4. Positive cases are named after the form
// that fuses, negative ones after the precondition that fails, which the
// pass reports in a "fusion missed because ..." remark.

// RUN: rill-opt %s --split-input-file --verify-diagnostics --rill-fuse-attention | FileCheck %s

// The plain form: K transposed by linalg.transpose, scores divided by a
// constant, softmax over the last axis, no mask.
// CHECK-LABEL: func.func @fuse_scaled_attention
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x5x4xf32>, %[[V:.*]]: tensor<1x2x5x4xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[OUT:.*]] = rill.attention %[[Q]], %[[K]], %[[V]] at %{{.*}}, %{{.*}} mask(#rill.full) scale(5.000000e-01)
// CHECK-NOT: bias
// CHECK: return %[[OUT]]

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_scaled_attention(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scaled : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// A causal mask built like torch exports it: key positions from a Range,
// query positions from a Range plus the past length, LessOrEqual, Where
// into 0 / lowest, added to the scores. The past length becomes q_pos.
// CHECK-LABEL: func.func @fuse_causal_range_mask
// CHECK-SAME: %[[PAST:[a-z0-9]+]]: i64
// CHECK: %[[QPOS:.*]] = arith.index_cast %[[PAST]] : i64 to index
// CHECK: rill.attention %{{.*}}, %{{.*}}, %{{.*}} at %[[QPOS]], %{{.*}} mask(#rill.causal)
// CHECK-NOT: bias

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_causal_range_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %past: i64) -> tensor<1x2x3x4xf32> {
  %krange_empty = tensor.empty() : tensor<5xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %krange = linalg.generic {indexing_maps = [#vec], iterator_types = ["parallel"]} outs(%krange_empty : tensor<5xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %m = arith.muli %i, %c1 : index
    %a = arith.addi %c0, %m : index
    %r = arith.index_cast %a : index to i64
    linalg.yield %r : i64
  } -> tensor<5xi64>
  %qrange_empty = tensor.empty() : tensor<3xi64>
  %qrange = linalg.generic {indexing_maps = [#vec], iterator_types = ["parallel"]} outs(%qrange_empty : tensor<3xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %r = arith.index_cast %i : index to i64
    linalg.yield %r : i64
  } -> tensor<3xi64>
  %past_tensor = tensor.from_elements %past : tensor<i64>
  %qpos_empty = tensor.empty() : tensor<3xi64>
  %qpos = linalg.generic {indexing_maps = [#vec, #vec0, #vec], iterator_types = ["parallel"]} ins(%qrange, %past_tensor : tensor<3xi64>, tensor<i64>) outs(%qpos_empty : tensor<3xi64>) {
  ^bb0(%a: i64, %b: i64, %o: i64):
    %r = arith.addi %a, %b : i64
    linalg.yield %r : i64
  } -> tensor<3xi64>
  %krow = tensor.expand_shape %krange [[0, 1]] output_shape [1, 5] : tensor<5xi64> into tensor<1x5xi64>
  %qcol = tensor.expand_shape %qpos [[0, 1]] output_shape [3, 1] : tensor<3xi64> into tensor<3x1xi64>
  %cmp_empty = tensor.empty() : tensor<3x5xi1>
  %causal = linalg.generic {indexing_maps = [#keyrow, #querycol, #id2], iterator_types = ["parallel", "parallel"]} ins(%krow, %qcol : tensor<1x5xi64>, tensor<3x1xi64>) outs(%cmp_empty : tensor<3x5xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi sle, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %causal4 = tensor.expand_shape %causal [[0, 1, 2], [3]] output_shape [1, 1, 3, 5] : tensor<3x5xi1> into tensor<1x1x3x5xi1>
  %shown = arith.constant dense<0.000000e+00> : tensor<f32>
  %hidden = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %additive_empty = tensor.empty() : tensor<1x1x3x5xf32>
  %additive = linalg.generic {indexing_maps = [#id4, #scalar, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%causal4, %shown, %hidden : tensor<1x1x3x5xi1>, tensor<f32>, tensor<f32>) outs(%additive_empty : tensor<1x1x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x1x3x5xf32>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %mask_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #bcast2, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %additive : tensor<1x2x3x5xf32>, tensor<1x1x3x5xf32>) outs(%mask_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// Causal and padding masks combined with And: the causal part becomes
// the mask attribute, the padding part a bias, with a remark that names
// the runtime input.
// CHECK-LABEL: func.func @fuse_causal_and_padding_mask
// CHECK-SAME: %[[MASK:[a-z0-9_]+]]: tensor<1x5xi64>
// CHECK: %[[EXPANDED:.*]] = tensor.expand_shape %[[MASK]]
// CHECK: %[[PADDING:.*]] = linalg.generic {{.*}} ins(%[[EXPANDED]]
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%[[PADDING]] : tensor<1x1x1x5xi1>) outs(%{{.*}} : tensor<1x1x3x5xf32>)
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: rill.attention {{.*}} mask(#rill.causal) scale(5.000000e-01) bias(%[[BIAS]] : tensor<1x1x3x5xf32>)

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_causal_and_padding_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %past: i64, %attention_mask: tensor<1x5xi64> {rill.name = "attention_mask"}) -> tensor<1x2x3x4xf32> {
  %krange_empty = tensor.empty() : tensor<5xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %krange = linalg.generic {indexing_maps = [#vec], iterator_types = ["parallel"]} outs(%krange_empty : tensor<5xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %m = arith.muli %i, %c1 : index
    %a = arith.addi %c0, %m : index
    %r = arith.index_cast %a : index to i64
    linalg.yield %r : i64
  } -> tensor<5xi64>
  %qrange_empty = tensor.empty() : tensor<3xi64>
  %qrange = linalg.generic {indexing_maps = [#vec], iterator_types = ["parallel"]} outs(%qrange_empty : tensor<3xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %r = arith.index_cast %i : index to i64
    linalg.yield %r : i64
  } -> tensor<3xi64>
  %past_tensor = tensor.from_elements %past : tensor<i64>
  %qpos_empty = tensor.empty() : tensor<3xi64>
  %qpos = linalg.generic {indexing_maps = [#vec, #vec0, #vec], iterator_types = ["parallel"]} ins(%qrange, %past_tensor : tensor<3xi64>, tensor<i64>) outs(%qpos_empty : tensor<3xi64>) {
  ^bb0(%a: i64, %b: i64, %o: i64):
    %r = arith.addi %a, %b : i64
    linalg.yield %r : i64
  } -> tensor<3xi64>
  %krow = tensor.expand_shape %krange [[0, 1]] output_shape [1, 5] : tensor<5xi64> into tensor<1x5xi64>
  %qcol = tensor.expand_shape %qpos [[0, 1]] output_shape [3, 1] : tensor<3xi64> into tensor<3x1xi64>
  %cmp_empty = tensor.empty() : tensor<3x5xi1>
  %causal = linalg.generic {indexing_maps = [#keyrow, #querycol, #id2], iterator_types = ["parallel", "parallel"]} ins(%krow, %qcol : tensor<1x5xi64>, tensor<3x1xi64>) outs(%cmp_empty : tensor<3x5xi1>) {
  ^bb0(%a: i64, %b: i64, %o: i1):
    %r = arith.cmpi sle, %a, %b : i64
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %causal4 = tensor.expand_shape %causal [[0, 1, 2], [3]] output_shape [1, 1, 3, 5] : tensor<3x5xi1> into tensor<1x1x3x5xi1>
  %mask4 = tensor.expand_shape %attention_mask [[0, 1, 2], [3]] output_shape [1, 1, 1, 5] : tensor<1x5xi64> into tensor<1x1x1x5xi64>
  %pad_empty = tensor.empty() : tensor<1x1x1x5xi1>
  %padding = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mask4 : tensor<1x1x1x5xi64>) outs(%pad_empty : tensor<1x1x1x5xi1>) {
  ^bb0(%a: i64, %o: i1):
    %zero_i64 = arith.constant 0 : i64
    %r = arith.cmpi ne, %a, %zero_i64 : i64
    linalg.yield %r : i1
  } -> tensor<1x1x1x5xi1>
  %and_empty = tensor.empty() : tensor<1x1x3x5xi1>
  %both = linalg.generic {indexing_maps = [#bcast2, #pad, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%causal4, %padding : tensor<1x1x3x5xi1>, tensor<1x1x1x5xi1>) outs(%and_empty : tensor<1x1x3x5xi1>) {
  ^bb0(%a: i1, %b: i1, %o: i1):
    %r = arith.andi %a, %b : i1
    linalg.yield %r : i1
  } -> tensor<1x1x3x5xi1>
  %shown = arith.constant dense<0.000000e+00> : tensor<f32>
  %hidden = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %additive_empty = tensor.empty() : tensor<1x1x3x5xf32>
  %additive = linalg.generic {indexing_maps = [#id4, #scalar, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%both, %shown, %hidden : tensor<1x1x3x5xi1>, tensor<f32>, tensor<f32>) outs(%additive_empty : tensor<1x1x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %c, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x1x3x5xf32>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %mask_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #headb, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %additive : tensor<1x2x3x5xf32>, tensor<1x1x3x5xf32>) outs(%mask_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion kept the mask as a bias because part of it depends on the runtime input 'attention_mask'}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// A sliding window written as index comparisons (q - 3 < k <= q) in one
// generic, applied with a Where on the scores.
// CHECK-LABEL: func.func @fuse_sliding_window_mask
// CHECK: rill.attention {{.*}} mask(#rill.window<3>) scale(5.000000e-01)
// CHECK-NOT: bias

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_sliding_window_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %win_empty = tensor.empty() : tensor<3x5xi1>
  %c3 = arith.constant 3 : index
  %window = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%win_empty : tensor<3x5xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %upper = arith.cmpi sle, %j, %i : index
    %start = arith.subi %i, %c3 : index
    %lower = arith.cmpi sgt, %j, %start : index
    %r = arith.andi %upper, %lower : i1
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %window4 = tensor.expand_shape %window [[0, 1, 2], [3]] output_shape [1, 1, 3, 5] : tensor<3x5xi1> into tensor<1x1x3x5xi1>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %fill = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %where_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#bcast2, #id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%window4, %scaled, %fill : tensor<1x1x3x5xi1>, tensor<1x2x3x5xf32>, tensor<f32>) outs(%where_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %hid: f32, %o: f32):
    %r = arith.select %c, %a, %hid : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// GPT-2's causal mask: a slice of a constant lower-triangular buffer at a
// runtime row offset, applied with Where and the lowest float.
// CHECK-LABEL: func.func @fuse_constant_causal_slice
// CHECK-SAME: %[[OFFSET:[a-z0-9]+]]: index
// CHECK: rill.attention {{.*}} at %[[OFFSET]], %{{.*}} mask(#rill.causal) scale(5.000000e-01)
// CHECK-NOT: bias

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_constant_causal_slice(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %offset: index) -> tensor<1x2x3x4xf32> {
  %tril = arith.constant dense<[[[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]]]> : tensor<1x1x8x8xi1>
  %causal_slice = tensor.extract_slice %tril[0, 0, %offset, 0] [1, 1, 3, 5] [1, 1, 1, 1] : tensor<1x1x8x8xi1> to tensor<1x1x3x5xi1>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %fill = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %where_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#bcast2, #id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%causal_slice, %scaled, %fill : tensor<1x1x3x5xi1>, tensor<1x2x3x5xf32>, tensor<f32>) outs(%where_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %hid: f32, %o: f32):
    %r = arith.select %c, %a, %hid : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// torch.triu(full((Tq, Tk), -inf), diagonal=1) added to the scores: Trilu
// keeps -inf above the diagonal and writes 0 elsewhere.
// CHECK-LABEL: func.func @fuse_trilu_additive_mask
// CHECK: rill.attention {{.*}} mask(#rill.causal) scale(5.000000e-01)
// CHECK-NOT: bias

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_trilu_additive_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %neg_inf = arith.constant dense<0xFF800000> : tensor<3x5xf32>
  %trilu_empty = tensor.empty() : tensor<3x5xf32>
  %c1_idx = arith.constant 1 : index
  %trilu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%neg_inf : tensor<3x5xf32>) outs(%trilu_empty : tensor<3x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %row = linalg.index 0 : index
    %col = linalg.index 1 : index
    %diff = arith.subi %col, %row : index
    %keep = arith.cmpi sge, %diff, %c1_idx : index
    %zero_f = arith.constant 0.000000e+00 : f32
    %r = arith.select %keep, %in, %zero_f : f32
    linalg.yield %r : f32
  } -> tensor<3x5xf32>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %mask_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #last2, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %trilu : tensor<1x2x3x5xf32>, tensor<3x5xf32>) outs(%mask_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// Trilu (lower, diagonal 0) of a boolean tensor of ones as a Where mask.
// CHECK-LABEL: func.func @fuse_trilu_boolean_mask
// CHECK: rill.attention {{.*}} mask(#rill.causal) scale(5.000000e-01)
// CHECK-NOT: bias

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_trilu_boolean_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %ones = arith.constant dense<true> : tensor<3x5xi1>
  %tril_empty = tensor.empty() : tensor<3x5xi1>
  %c0_idx = arith.constant 0 : index
  %tril = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%ones : tensor<3x5xi1>) outs(%tril_empty : tensor<3x5xi1>) {
  ^bb0(%in: i1, %out: i1):
    %row = linalg.index 0 : index
    %col = linalg.index 1 : index
    %diff = arith.subi %col, %row : index
    %keep = arith.cmpi sle, %diff, %c0_idx : index
    %false = arith.constant false
    %r = arith.select %keep, %in, %false : i1
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %fill = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %where_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#last2, #id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%tril, %scaled, %fill : tensor<3x5xi1>, tensor<1x2x3x5xf32>, tensor<f32>) outs(%where_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %hid: f32, %o: f32):
    %r = arith.select %c, %a, %hid : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// Grouped-query attention: one key/value head repeated for two query heads
// with expand_shape, a broadcast and a reshape. The op reads the
// un-repeated keys and values.
// CHECK-LABEL: func.func @fuse_grouped_query_repetition
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x1x5x4xf32>, %[[V:.*]]: tensor<1x1x5x4xf32>)
// CHECK: rill.attention %[[Q]], %[[K]], %[[V]] at {{.*}} : tensor<1x2x3x4xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32> -> tensor<1x2x3x4xf32>

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_grouped_query_repetition(%q: tensor<1x2x3x4xf32>, %k: tensor<1x1x5x4xf32>, %v: tensor<1x1x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %krep_expanded = tensor.expand_shape %k [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 5, 4] : tensor<1x1x5x4xf32> into tensor<1x1x1x5x4xf32>
  %krep_empty = tensor.empty() : tensor<1x1x2x5x4xf32>
  %krep_repeated = linalg.generic {indexing_maps = [#rep_in, #rep_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%krep_expanded : tensor<1x1x1x5x4xf32>) outs(%krep_empty : tensor<1x1x2x5x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x5x4xf32>
  %krep_shape = arith.constant dense<[1, 2, 5, 4]> : tensor<4xindex>
  %k_rep = tensor.reshape %krep_repeated(%krep_shape) : (tensor<1x1x2x5x4xf32>, tensor<4xindex>) -> tensor<1x2x5x4xf32>
  %vrep_expanded = tensor.expand_shape %v [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 5, 4] : tensor<1x1x5x4xf32> into tensor<1x1x1x5x4xf32>
  %vrep_empty = tensor.empty() : tensor<1x1x2x5x4xf32>
  %vrep_repeated = linalg.generic {indexing_maps = [#rep_in, #rep_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%vrep_expanded : tensor<1x1x1x5x4xf32>) outs(%vrep_empty : tensor<1x1x2x5x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1x2x5x4xf32>
  %vrep_shape = arith.constant dense<[1, 2, 5, 4]> : tensor<4xindex>
  %v_rep = tensor.reshape %vrep_repeated(%vrep_shape) : (tensor<1x1x2x5x4xf32>, tensor<4xindex>) -> tensor<1x2x5x4xf32>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k_rep : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scores : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v_rep : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// Scale applied to queries and keys (each by 0.5) instead of the scores.
// CHECK-LABEL: func.func @fuse_scale_on_query_and_key
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x5x4xf32>, %[[V:.*]]: tensor<1x2x5x4xf32>)
// CHECK: rill.attention %[[Q]], %[[K]], %[[V]] at {{.*}} mask(#rill.full) scale(2.500000e-01)

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_scale_on_query_and_key(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %qscale_c = arith.constant dense<5.000000e-01> : tensor<f32>
  %qscale_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %q_scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q, %qscale_c : tensor<1x2x3x4xf32>, tensor<f32>) outs(%qscale_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %kscale_c = arith.constant dense<5.000000e-01> : tensor<f32>
  %kscale_empty = tensor.empty() : tensor<1x2x5x4xf32>
  %k_scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %kscale_c : tensor<1x2x5x4xf32>, tensor<f32>) outs(%kscale_empty : tensor<1x2x5x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x5x4xf32>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k_scaled : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q_scaled, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scores : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// linalg.softmax over the last axis.
// CHECK-LABEL: func.func @fuse_linalg_softmax
// CHECK: rill.attention {{.*}} mask(#rill.full) scale(1.000000e+00)

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @fuse_linalg_softmax(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %softmax_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.softmax dimension(3) ins(%scores : tensor<1x2x3x5xf32>) outs(%softmax_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @no_fusion_when_softmax_axis_is_not_last
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_softmax_axis_is_not_last(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %softmax_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.softmax dimension(2) ins(%scores : tensor<1x2x3x5xf32>) outs(%softmax_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected the softmax axis to be the last axis}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @no_fusion_without_softmax
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_without_softmax(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%scores, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// The mask is added before the scale, so the scale would apply to it too.
// CHECK-LABEL: func.func @no_fusion_when_scale_follows_mask
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_scale_follows_mask(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %win_empty = tensor.empty() : tensor<3x5xi1>
  %c3 = arith.constant 3 : index
  %window = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%win_empty : tensor<3x5xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %upper = arith.cmpi sle, %j, %i : index
    %start = arith.subi %i, %c3 : index
    %lower = arith.cmpi sgt, %j, %start : index
    %r = arith.andi %upper, %lower : i1
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %window4 = tensor.expand_shape %window [[0, 1, 2], [3]] output_shape [1, 1, 3, 5] : tensor<3x5xi1> into tensor<1x1x3x5xi1>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %fill = arith.constant dense<-3.40282347E+38> : tensor<f32>
  %where_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#bcast2, #id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%window4, %scores, %fill : tensor<1x1x3x5xi1>, tensor<1x2x3x5xf32>, tensor<f32>) outs(%where_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %hid: f32, %o: f32):
    %r = arith.select %c, %a, %hid : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %scale_c = arith.constant dense<2.000000e+00> : tensor<f32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %scale_c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scaled : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected the scale to be applied before the mask}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// A Where that writes 0 instead of -inf or a large negative score is no mask.
// CHECK-LABEL: func.func @no_fusion_when_select_fill_is_not_hidden
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_select_fill_is_not_hidden(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %win_empty = tensor.empty() : tensor<3x5xi1>
  %c3 = arith.constant 3 : index
  %window = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%win_empty : tensor<3x5xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %upper = arith.cmpi sle, %j, %i : index
    %start = arith.subi %i, %c3 : index
    %lower = arith.cmpi sgt, %j, %start : index
    %r = arith.andi %upper, %lower : i1
    linalg.yield %r : i1
  } -> tensor<3x5xi1>
  %window4 = tensor.expand_shape %window [[0, 1, 2], [3]] output_shape [1, 1, 3, 5] : tensor<3x5xi1> into tensor<1x1x3x5xi1>
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %fill = arith.constant dense<0.000000e+00> : tensor<f32>
  %where_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %masked = linalg.generic {indexing_maps = [#bcast2, #id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%window4, %scores, %fill : tensor<1x1x3x5xi1>, tensor<1x2x3x5xf32>, tensor<f32>) outs(%where_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%c: i1, %a: f32, %hid: f32, %o: f32):
    %r = arith.select %c, %a, %hid : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%masked : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%masked, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected a select mask that writes -inf or a large negative score}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @no_fusion_when_scores_are_not_a_contraction
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_scores_are_not_a_contraction(%scores: tensor<1x2x3x5xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scores : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected the softmax input to come from a query-key contraction}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// A scale that is not a constant scalar.
// CHECK-LABEL: func.func @no_fusion_when_scale_is_not_constant
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_scale_is_not_constant(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %c: tensor<f32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %scale_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #scalar, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %c : tensor<1x2x3x5xf32>, tensor<f32>) outs(%scale_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scaled : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scaled, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected the scores to be scaled by a constant scalar}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// The contraction with the values accumulates into a non-zero init, so it
// is no plain weighted sum.
// CHECK-LABEL: func.func @no_fusion_when_values_init_is_not_zero
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_values_init_is_not_zero(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x3xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%scores : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected a batched contraction of weights [B, H, Tq, Tk] with values [B, H, Tk, Dv]}}
  %pv_zero = arith.constant 1.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}

// -----

// A row maximum taken over the query axis instead of the key axis.
// CHECK-LABEL: func.func @no_fusion_when_max_is_over_another_axis
// CHECK-NOT: rill.attention

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#row1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#bcast2 = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#vec = affine_map<(d0) -> (d0)>
#vec0 = affine_map<(d0) -> ()>
#keyrow = affine_map<(d0, d1) -> (0, d1)>
#querycol = affine_map<(d0, d1) -> (d0, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#headb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#pad = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#scalar2 = affine_map<(d0, d1) -> ()>
#rep_in = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#rep_out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#last2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#rowq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

func.func @no_fusion_when_max_is_over_another_axis(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt_empty = tensor.empty() : tensor<1x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt_empty : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %qk_zero = arith.constant 0.000000e+00 : f32
  %qk_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %qk_init = linalg.fill ins(%qk_zero : f32) outs(%qk_empty : tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %scores = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32>) outs(%qk_init : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x5xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %max_empty = tensor.empty() : tensor<1x2x5xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%max_empty : tensor<1x2x5xf32>) -> tensor<1x2x5xf32>
  %max = linalg.generic {indexing_maps = [#id4, #rowq], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%scores : tensor<1x2x3x5xf32>) outs(%max_init : tensor<1x2x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x5xf32>
  %max_rows = tensor.extract_slice %max[0, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<1x2x5xf32> to tensor<1x2x3xf32>
  %max1 = tensor.expand_shape %max_rows [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %sub_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %shifted = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%scores, %max1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%sub_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %exp_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%shifted : tensor<1x2x3x5xf32>) outs(%exp_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %sum_empty = tensor.empty() : tensor<1x2x3xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%sum_empty : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%exp : tensor<1x2x3x5xf32>) outs(%sum_init : tensor<1x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3xf32>
  %sum1 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 2, 3, 1] : tensor<1x2x3xf32> into tensor<1x2x3x1xf32>
  %div_empty = tensor.empty() : tensor<1x2x3x5xf32>
  %weights = linalg.generic {indexing_maps = [#id4, #row1, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%exp, %sum1 : tensor<1x2x3x5xf32>, tensor<1x2x3x1xf32>) outs(%div_empty : tensor<1x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x5xf32>
  // expected-remark @+4 {{fusion missed because expected the softmax axis to be the last axis}}
  %pv_zero = arith.constant 0.000000e+00 : f32
  %pv_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %pv_init = linalg.fill ins(%pv_zero : f32) outs(%pv_empty : tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %out = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%weights, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32>) outs(%pv_init : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x4xf32>
  return %out : tensor<1x2x3x4xf32>
}
