// With recognize-masks=false, every mask term becomes the bias operand and
// the mask attribute stays #rill.full, even for a causal mask that the
// default recognises.

// RUN: rill-opt %s --verify-diagnostics --rill-fuse-attention="recognize-masks=false" | FileCheck %s

// CHECK-LABEL: func.func @keep_masks_as_bias_without_recognition
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x3x5xf32>)
// CHECK: rill.attention {{.*}} mask(#rill.full) scale(5.000000e-01) bias(%[[BIAS]] : tensor<1x1x3x5xf32>)

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

func.func @keep_masks_as_bias_without_recognition(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %past: i64, %attention_mask: tensor<1x5xi64> {rill.name = "attention_mask"}) -> tensor<1x2x3x4xf32> {
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
  // expected-remark @+4 {{fusion kept the mask as a bias because mask recognition is off (recognize-masks=false)}}
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
