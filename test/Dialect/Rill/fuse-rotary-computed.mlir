// rill-fuse-attention on RoPE whose cos and sin are computed from position
// ids and an inverse-frequency constant, and on partial rotary. Static shapes
// B=1, H=2, T=3. Each no-fusion case breaks one precondition, is named after
// it and carries the remark that names the failed precondition.

// RUN: rill-opt %s --split-input-file --verify-diagnostics --rill-fuse-attention | FileCheck %s

// Hugging Face Llama: freqs = float(position_ids) * inv_freq with inv_freq =
// 10000^(-2i/4), cos and sin of concat(freqs, freqs). theta 10000 is the default
// and is not printed.
// CHECK-LABEL: func.func @fuse_half_split_computed
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK: %[[R:.*]] = rill.rotary %[[X]] at %[[POS]] {rotary_dim = 4 : i64} : tensor<1x2x3x4xf32>, tensor<1x3xi64>
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @fuse_half_split_computed(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pos31 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty2 = tensor.empty() : tensor<1x3x1xf32>
  %posf3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos31 : tensor<1x3x1xi64>) outs(%posf_empty2 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq4 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty5 = tensor.empty() : tensor<1x3x2xf32>
  %freqs6 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf3, %inv_freq4 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty5 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb7 = tensor.concat dim(2) %freqs6, %freqs6 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %cos_empty8 = tensor.empty() : tensor<1x3x4xf32>
  %cos9 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb7 : tensor<1x3x4xf32>) outs(%cos_empty8 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cos %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast10 = tensor.expand_shape %cos9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %pos311 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty12 = tensor.empty() : tensor<1x3x1xf32>
  %posf13 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos311 : tensor<1x3x1xi64>) outs(%posf_empty12 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq14 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty15 = tensor.empty() : tensor<1x3x2xf32>
  %freqs16 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf13, %inv_freq14 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty15 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb17 = tensor.concat dim(2) %freqs16, %freqs16 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x4xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb17 : tensor<1x3x4xf32>) outs(%sin_empty18 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bcast10 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty21 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high23 = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty24 = tensor.empty() : tensor<1x2x3x2xf32>
  %negated25 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high23 : tensor<1x2x3x2xf32>) outs(%neg_empty24 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low26 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated27 = tensor.concat dim(3) %negated25, %low26 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %empty28 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf29 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated27, %bcast20 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty28 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %empty30 = tensor.empty() : tensor<1x2x3x4xf32>
  %addf31 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf29 : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%empty30 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %addf31 : tensor<1x2x3x4xf32>
}

// -----

// inv_freq = 500000^(-2i/8) gives theta 5e5.
// CHECK-LABEL: func.func @fuse_half_split_computed_theta
// CHECK: rill.rotary %{{.*}} at %{{.*}} {rotary_dim = 8 : i64, theta = 5.000000e+05 : f64}

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @fuse_half_split_computed_theta(%x: tensor<1x2x3x8xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
  %pos31 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty2 = tensor.empty() : tensor<1x3x1xf32>
  %posf3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos31 : tensor<1x3x1xi64>) outs(%posf_empty2 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq4 = arith.constant dense<[1.000000e+00, 3.760603e-02, 1.414214e-03, 5.318296e-05]> : tensor<4xf32>
  %freqs_empty5 = tensor.empty() : tensor<1x3x4xf32>
  %freqs6 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf3, %inv_freq4 : tensor<1x3x1xf32>, tensor<4xf32>) outs(%freqs_empty5 : tensor<1x3x4xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %emb7 = tensor.concat dim(2) %freqs6, %freqs6 : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x8xf32>
  %cos_empty8 = tensor.empty() : tensor<1x3x8xf32>
  %cos9 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb7 : tensor<1x3x8xf32>) outs(%cos_empty8 : tensor<1x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cos %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x8xf32>
  %bcast10 = tensor.expand_shape %cos9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 8] : tensor<1x3x8xf32> into tensor<1x1x3x8xf32>
  %pos311 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty12 = tensor.empty() : tensor<1x3x1xf32>
  %posf13 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos311 : tensor<1x3x1xi64>) outs(%posf_empty12 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq14 = arith.constant dense<[1.000000e+00, 3.760603e-02, 1.414214e-03, 5.318296e-05]> : tensor<4xf32>
  %freqs_empty15 = tensor.empty() : tensor<1x3x4xf32>
  %freqs16 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf13, %inv_freq14 : tensor<1x3x1xf32>, tensor<4xf32>) outs(%freqs_empty15 : tensor<1x3x4xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %emb17 = tensor.concat dim(2) %freqs16, %freqs16 : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x8xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x8xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb17 : tensor<1x3x8xf32>) outs(%sin_empty18 : tensor<1x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x8xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 8] : tensor<1x3x8xf32> into tensor<1x1x3x8xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x8xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bcast10 : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) outs(%empty21 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  %high23 = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %neg_empty24 = tensor.empty() : tensor<1x2x3x4xf32>
  %negated25 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high23 : tensor<1x2x3x4xf32>) outs(%neg_empty24 : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %low26 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %rotated27 = tensor.concat dim(3) %negated25, %low26 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  %empty28 = tensor.empty() : tensor<1x2x3x8xf32>
  %mulf29 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated27, %bcast20 : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) outs(%empty28 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  %empty30 = tensor.empty() : tensor<1x2x3x8xf32>
  %addf31 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf29 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) outs(%empty30 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  return %addf31 : tensor<1x2x3x8xf32>
}

// -----

// inv_freq = [1, 0.1, 0.05, 0.001] is theta^(-2i/8) for no theta.
// CHECK-LABEL: func.func @computed_inv_freq_not_geometric
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @computed_inv_freq_not_geometric(%x: tensor<1x2x3x8xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
  %pos31 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty2 = tensor.empty() : tensor<1x3x1xf32>
  %posf3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos31 : tensor<1x3x1xi64>) outs(%posf_empty2 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq4 = arith.constant dense<[1.000000e+00, 1.000000e-01, 5.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %freqs_empty5 = tensor.empty() : tensor<1x3x4xf32>
  %freqs6 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf3, %inv_freq4 : tensor<1x3x1xf32>, tensor<4xf32>) outs(%freqs_empty5 : tensor<1x3x4xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %emb7 = tensor.concat dim(2) %freqs6, %freqs6 : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x8xf32>
  %cos_empty8 = tensor.empty() : tensor<1x3x8xf32>
  %cos9 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb7 : tensor<1x3x8xf32>) outs(%cos_empty8 : tensor<1x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cos %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x8xf32>
  %bcast10 = tensor.expand_shape %cos9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 8] : tensor<1x3x8xf32> into tensor<1x1x3x8xf32>
  %pos311 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty12 = tensor.empty() : tensor<1x3x1xf32>
  %posf13 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos311 : tensor<1x3x1xi64>) outs(%posf_empty12 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq14 = arith.constant dense<[1.000000e+00, 1.000000e-01, 5.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %freqs_empty15 = tensor.empty() : tensor<1x3x4xf32>
  %freqs16 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf13, %inv_freq14 : tensor<1x3x1xf32>, tensor<4xf32>) outs(%freqs_empty15 : tensor<1x3x4xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %emb17 = tensor.concat dim(2) %freqs16, %freqs16 : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x8xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x8xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb17 : tensor<1x3x8xf32>) outs(%sin_empty18 : tensor<1x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x8xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 8] : tensor<1x3x8xf32> into tensor<1x1x3x8xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x8xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bcast10 : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) outs(%empty21 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  %high23 = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %neg_empty24 = tensor.empty() : tensor<1x2x3x4xf32>
  %negated25 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high23 : tensor<1x2x3x4xf32>) outs(%neg_empty24 : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %low26 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %rotated27 = tensor.concat dim(3) %negated25, %low26 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  %empty28 = tensor.empty() : tensor<1x2x3x8xf32>
  %mulf29 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated27, %bcast20 : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) outs(%empty28 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  %empty30 = tensor.empty() : tensor<1x2x3x8xf32>
  // expected-remark @below {{RoPE fusion missed because expected inverse frequencies theta^(-2i/8) for a single theta}}
  %addf31 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf29 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) outs(%empty30 : tensor<1x2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x8xf32>
  return %addf31 : tensor<1x2x3x8xf32>
}

// -----

// The x product reads sin where cos belongs.
// CHECK-LABEL: func.func @computed_sin_as_cos
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @computed_sin_as_cos(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pos31 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty2 = tensor.empty() : tensor<1x3x1xf32>
  %posf3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos31 : tensor<1x3x1xi64>) outs(%posf_empty2 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq4 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty5 = tensor.empty() : tensor<1x3x2xf32>
  %freqs6 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf3, %inv_freq4 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty5 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb7 = tensor.concat dim(2) %freqs6, %freqs6 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %sin_empty8 = tensor.empty() : tensor<1x3x4xf32>
  %sin9 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb7 : tensor<1x3x4xf32>) outs(%sin_empty8 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast10 = tensor.expand_shape %sin9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %pos311 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty12 = tensor.empty() : tensor<1x3x1xf32>
  %posf13 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos311 : tensor<1x3x1xi64>) outs(%posf_empty12 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq14 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty15 = tensor.empty() : tensor<1x3x2xf32>
  %freqs16 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf13, %inv_freq14 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty15 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb17 = tensor.concat dim(2) %freqs16, %freqs16 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x4xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb17 : tensor<1x3x4xf32>) outs(%sin_empty18 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bcast10 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty21 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high23 = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty24 = tensor.empty() : tensor<1x2x3x2xf32>
  %negated25 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high23 : tensor<1x2x3x2xf32>) outs(%neg_empty24 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low26 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated27 = tensor.concat dim(3) %negated25, %low26 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %empty28 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf29 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated27, %bcast20 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty28 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %empty30 = tensor.empty() : tensor<1x2x3x4xf32>
  // expected-remark @below {{RoPE fusion missed because expected cos and sin gathered from constant tables by position ids, or Cos and Sin of concat(freqs, freqs)}}
  %addf31 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf29 : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%empty30 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %addf31 : tensor<1x2x3x4xf32>
}

// -----

// cos and sin come from different position ids.
// CHECK-LABEL: func.func @computed_positions_differ
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @computed_positions_differ(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>, %other: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pos31 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty2 = tensor.empty() : tensor<1x3x1xf32>
  %posf3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos31 : tensor<1x3x1xi64>) outs(%posf_empty2 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq4 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty5 = tensor.empty() : tensor<1x3x2xf32>
  %freqs6 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf3, %inv_freq4 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty5 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb7 = tensor.concat dim(2) %freqs6, %freqs6 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %cos_empty8 = tensor.empty() : tensor<1x3x4xf32>
  %cos9 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb7 : tensor<1x3x4xf32>) outs(%cos_empty8 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cos %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast10 = tensor.expand_shape %cos9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %pos311 = tensor.expand_shape %other [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty12 = tensor.empty() : tensor<1x3x1xf32>
  %posf13 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos311 : tensor<1x3x1xi64>) outs(%posf_empty12 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq14 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty15 = tensor.empty() : tensor<1x3x2xf32>
  %freqs16 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf13, %inv_freq14 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty15 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %emb17 = tensor.concat dim(2) %freqs16, %freqs16 : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x4xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%emb17 : tensor<1x3x4xf32>) outs(%sin_empty18 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x4xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bcast10 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty21 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high23 = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty24 = tensor.empty() : tensor<1x2x3x2xf32>
  %negated25 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high23 : tensor<1x2x3x2xf32>) outs(%neg_empty24 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low26 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated27 = tensor.concat dim(3) %negated25, %low26 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %empty28 = tensor.empty() : tensor<1x2x3x4xf32>
  %mulf29 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated27, %bcast20 : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%empty28 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %empty30 = tensor.empty() : tensor<1x2x3x4xf32>
  // expected-remark @below {{RoPE fusion missed because expected cos and sin computed from the same position ids}}
  %addf31 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf29 : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%empty30 : tensor<1x2x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %addf31 : tensor<1x2x3x4xf32>
}

// -----

// Partial rotary: the first 2 of 4 channels rotate, the rest pass through
// Slice and Concat. The op widens to the whole head with rotary_dim = 2.
// CHECK-LABEL: func.func @fuse_partial_rotary
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK: %[[R:.*]] = rill.rotary %[[X]] at %[[POS]] {interleaved, rotary_dim = 2 : i64} : tensor<1x2x3x4xf32>, tensor<1x3xi64>
// CHECK-NEXT: return %[[R]]

func.func @fuse_partial_rotary(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %rotated_in = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = rill.rotary %rotated_in at %positions {interleaved} : tensor<1x2x3x2xf32>, tensor<1x3xi64>
  %passed = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %r = tensor.concat dim(3) %rotated, %passed : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  return %r : tensor<1x2x3x4xf32>
}

// -----

// The passed-through channels come from another tensor.
// CHECK-LABEL: func.func @partial_rotary_pass_through_of_other_tensor
// CHECK: rill.rotary %{{.*}} at %{{.*}} {interleaved} : tensor<1x2x3x2xf32>
// CHECK: tensor.concat

func.func @partial_rotary_pass_through_of_other_tensor(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>, %y: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %rotated_in = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = rill.rotary %rotated_in at %positions {interleaved} : tensor<1x2x3x2xf32>, tensor<1x3xi64>
  %passed = tensor.extract_slice %y[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %r = tensor.concat dim(3) %rotated, %passed : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  return %r : tensor<1x2x3x4xf32>
}
