// rill-fuse-attention on grouped-query repetition through Tile, which the ONNX
// importer lowers to a generic without inputs that extracts source[i mod size].
// Static shapes: 2 query heads, 3 queries, 5 keys, D = 4. The tile of the head
// axis with several key/value heads (cyclic head order, no grouped-query
// pattern) is covered by python/tests/test_fuse_attention.py.

// RUN: rill-opt %s --split-input-file --rill-fuse-attention | FileCheck %s

// Grouped-query repetition through Tile, as torch exports
// x[:, :, None].repeat(1, 1, 2, 1, 1).reshape(...): Unsqueeze, Tile, Reshape.
// The op reads the un-repeated keys and values.
// CHECK-LABEL: func.func @fuse_gqa_tile
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

func.func @fuse_gqa_tile(%q: tensor<1x2x3x4xf32>, %k: tensor<1x1x5x4xf32>, %v: tensor<1x1x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %krep_expanded = tensor.expand_shape %k [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 5, 4] : tensor<1x1x5x4xf32> into tensor<1x1x1x5x4xf32>
  %krep_repeated_empty = tensor.empty() : tensor<1x1x2x5x4xf32>
  %krep_repeated = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} outs(%krep_repeated_empty : tensor<1x1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 1 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 1 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 5 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %c4 = arith.constant 4 : index
    %i4 = linalg.index 4 : index
    %m4 = arith.remui %i4, %c4 : index
    %e = tensor.extract %krep_expanded[%m0, %m1, %m2, %m3, %m4] : tensor<1x1x1x5x4xf32>
    linalg.yield %e : f32
  } -> tensor<1x1x2x5x4xf32>
  %krep_shape = arith.constant dense<[1, 2, 5, 4]> : tensor<4xindex>
  %k_rep = tensor.reshape %krep_repeated(%krep_shape) : (tensor<1x1x2x5x4xf32>, tensor<4xindex>) -> tensor<1x2x5x4xf32>
  %vrep_expanded = tensor.expand_shape %v [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 5, 4] : tensor<1x1x5x4xf32> into tensor<1x1x1x5x4xf32>
  %vrep_repeated_empty = tensor.empty() : tensor<1x1x2x5x4xf32>
  %vrep_repeated = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} outs(%vrep_repeated_empty : tensor<1x1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 1 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 1 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 5 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %c4 = arith.constant 4 : index
    %i4 = linalg.index 4 : index
    %m4 = arith.remui %i4, %c4 : index
    %e = tensor.extract %vrep_expanded[%m0, %m1, %m2, %m3, %m4] : tensor<1x1x1x5x4xf32>
    linalg.yield %e : f32
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

// Tile of the head axis of a single key/value head (multi-query attention,
// x.repeat(1, 2, 1, 1)). The op reads the single head.
// CHECK-LABEL: func.func @fuse_gqa_tile_heads_single_kv
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

func.func @fuse_gqa_tile_heads_single_kv(%q: tensor<1x2x3x4xf32>, %k: tensor<1x1x5x4xf32>, %v: tensor<1x1x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %k_rep_empty = tensor.empty() : tensor<1x2x5x4xf32>
  %k_rep = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%k_rep_empty : tensor<1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 1 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 5 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 4 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %e = tensor.extract %k[%m0, %m1, %m2, %m3] : tensor<1x1x5x4xf32>
    linalg.yield %e : f32
  } -> tensor<1x2x5x4xf32>
  %v_rep_empty = tensor.empty() : tensor<1x2x5x4xf32>
  %v_rep = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%v_rep_empty : tensor<1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 1 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 5 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 4 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %e = tensor.extract %v[%m0, %m1, %m2, %m3] : tensor<1x1x5x4xf32>
    linalg.yield %e : f32
  } -> tensor<1x2x5x4xf32>
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

// The head index is taken modulo 2, not modulo the source's head count 1, so
// the generic is no Tile of the source and stays in front of the op.
// CHECK-LABEL: func.func @tile_divisor_not_source_size
// CHECK: rill.attention {{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>

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

func.func @tile_divisor_not_source_size(%q: tensor<1x2x3x4xf32>, %k: tensor<1x1x5x4xf32>, %v: tensor<1x1x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %k_rep_empty = tensor.empty() : tensor<1x2x5x4xf32>
  %k_rep = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%k_rep_empty : tensor<1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 2 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 5 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 4 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %e = tensor.extract %k[%m0, %m1, %m2, %m3] : tensor<1x1x5x4xf32>
    linalg.yield %e : f32
  } -> tensor<1x2x5x4xf32>
  %v_rep_empty = tensor.empty() : tensor<1x2x5x4xf32>
  %v_rep = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%v_rep_empty : tensor<1x2x5x4xf32>) {
  ^bb0(%o: f32):
    %c0 = arith.constant 1 : index
    %i0 = linalg.index 0 : index
    %m0 = arith.remui %i0, %c0 : index
    %c1 = arith.constant 2 : index
    %i1 = linalg.index 1 : index
    %m1 = arith.remui %i1, %c1 : index
    %c2 = arith.constant 5 : index
    %i2 = linalg.index 2 : index
    %m2 = arith.remui %i2, %c2 : index
    %c3 = arith.constant 4 : index
    %i3 = linalg.index 3 : index
    %m3 = arith.remui %i3, %c3 : index
    %e = tensor.extract %v[%m0, %m1, %m2, %m3] : tensor<1x1x5x4xf32>
    linalg.yield %e : f32
  } -> tensor<1x2x5x4xf32>
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
