// rill-fuse-attention on interleaved RoPE, pairs (2i, 2i + 1), in the form the
// ONNX importer emits for torch exports. Static shapes B=1, H=2, T=3, D=4.
// Each no-fusion case breaks one precondition and is named after it.

// RUN: rill-opt %s --split-input-file --rill-fuse-attention | FileCheck %s

// Meta Llama's real-number RoPE as torch exports it: x viewed as [..., 2, 2]
// pairs, Gather of each pair element, (e * cos - o * sin, e * sin + o * cos)
// stacked and reshaped back, with cos and sin rows gathered from [6, 2] tables.
// CHECK-LABEL: func.func @fuse_interleaved_tables
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK: %[[R:.*]] = rill.rotary %[[X]] at %[[POS]] tables(%{{.*}}, %{{.*}} : tensor<6x2xf32>, tensor<6x2xf32>) {interleaved, rotary_dim = 4 : i64} : tensor<1x2x3x4xf32>, tensor<1x3xi64>
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @fuse_interleaved_tables(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf26 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf28 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf24, %mulf26 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in29 = tensor.expand_shape %subf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in30 = tensor.expand_shape %addf28 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked31 = tensor.concat dim(4) %stack_in29, %stack_in30 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape33 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat32 = tensor.reshape %stacked31(%flat_shape33) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat32 : tensor<1x2x3x4xf32>
}

// -----

// GPT-J's x[..., 0::2] and x[..., 1::2] slices, flattened with collapse_shape, with
// cos and sin computed from position ids and inv_freq = [1, 0.01] (theta 10000).
// CHECK-LABEL: func.func @fuse_interleaved_strided_computed
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK: %[[R:.*]] = rill.rotary %[[X]] at %[[POS]] {interleaved, rotary_dim = 4 : i64} : tensor<1x2x3x4xf32>, tensor<1x3xi64>
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @fuse_interleaved_strided_computed(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %even1 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 2] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %odd2 = tensor.extract_slice %x[0, 0, 0, 1] [1, 2, 3, 2] [1, 1, 1, 2] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %pos33 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty4 = tensor.empty() : tensor<1x3x1xf32>
  %posf5 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos33 : tensor<1x3x1xi64>) outs(%posf_empty4 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq6 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty7 = tensor.empty() : tensor<1x3x2xf32>
  %freqs8 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf5, %inv_freq6 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty7 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %cos_empty9 = tensor.empty() : tensor<1x3x2xf32>
  %cos10 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%freqs8 : tensor<1x3x2xf32>) outs(%cos_empty9 : tensor<1x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cos %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %bcast11 = tensor.expand_shape %cos10 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %pos312 = tensor.expand_shape %positions [[0], [1, 2]] output_shape [1, 3, 1] : tensor<1x3xi64> into tensor<1x3x1xi64>
  %posf_empty13 = tensor.empty() : tensor<1x3x1xf32>
  %posf14 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pos312 : tensor<1x3x1xi64>) outs(%posf_empty13 : tensor<1x3x1xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.sitofp %in : i64 to f32
    linalg.yield %r : f32
  } -> tensor<1x3x1xf32>
  %inv_freq15 = arith.constant dense<[1.000000e+00, 1.000000e-02]> : tensor<2xf32>
  %freqs_empty16 = tensor.empty() : tensor<1x3x2xf32>
  %freqs17 = linalg.generic {indexing_maps = [#unit3, #freq, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%posf14, %inv_freq15 : tensor<1x3x1xf32>, tensor<2xf32>) outs(%freqs_empty16 : tensor<1x3x2xf32>) {
  ^bb0(%p: f32, %f: f32, %out: f32):
    %r = arith.mulf %p, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %sin_empty18 = tensor.empty() : tensor<1x3x2xf32>
  %sin19 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%freqs17 : tensor<1x3x2xf32>) outs(%sin_empty18 : tensor<1x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sin %in : f32
    linalg.yield %r : f32
  } -> tensor<1x3x2xf32>
  %bcast20 = tensor.expand_shape %sin19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even1, %bcast11 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd2, %bcast20 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf26 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf24 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf28 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even1, %bcast20 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty29 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf30 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd2, %bcast11 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty29 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty31 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf32 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf28, %mulf30 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty31 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in33 = tensor.expand_shape %subf26 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in34 = tensor.expand_shape %addf32 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked35 = tensor.concat dim(4) %stack_in33, %stack_in34 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat36 = tensor.collapse_shape %stacked35 [[0], [1], [2], [3, 4]] : tensor<1x2x3x2x2xf32> into tensor<1x2x3x4xf32>
  return %flat36 : tensor<1x2x3x4xf32>
}

// -----

// Slices with stride 1 read neighbouring channels, not the pair elements.
// CHECK-LABEL: func.func @interleaved_wrong_slice_stride
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_wrong_slice_stride(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %even1 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %odd2 = tensor.extract_slice %x[0, 0, 0, 1] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %table3 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty4 = tensor.empty() : tensor<1x3x2xf32>
  %rows5 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty4 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table3[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast6 = tensor.expand_shape %rows5 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table7 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty8 = tensor.empty() : tensor<1x3x2xf32>
  %rows9 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty8 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table7[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast10 = tensor.expand_shape %rows9 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty11 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf12 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even1, %bcast6 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty11 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty13 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf14 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd2, %bcast10 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty13 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty15 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf16 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf12, %mulf14 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty15 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even1, %bcast10 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd2, %bcast6 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in23 = tensor.expand_shape %subf16 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in24 = tensor.expand_shape %addf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked25 = tensor.concat dim(4) %stack_in23, %stack_in24 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape27 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat26 = tensor.reshape %stacked25(%flat_shape27) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat26 : tensor<1x2x3x4xf32>
}

// -----

// e * cos + o * sin is the rotation by the negated angle.
// CHECK-LABEL: func.func @interleaved_even_output_adds_sin
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_even_output_adds_sin(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf26 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf28 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf24, %mulf26 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in29 = tensor.expand_shape %addf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in30 = tensor.expand_shape %addf28 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked31 = tensor.concat dim(4) %stack_in29, %stack_in30 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape33 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat32 = tensor.reshape %stacked31(%flat_shape33) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat32 : tensor<1x2x3x4xf32>
}

// -----

// The even output reads the odd element times cos.
// CHECK-LABEL: func.func @interleaved_swapped_pair_elements
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_swapped_pair_elements(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf26 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf28 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf24, %mulf26 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in29 = tensor.expand_shape %subf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in30 = tensor.expand_shape %addf28 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked31 = tensor.concat dim(4) %stack_in29, %stack_in30 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape33 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat32 = tensor.reshape %stacked31(%flat_shape33) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat32 : tensor<1x2x3x4xf32>
}

// -----

// The two outputs multiply by cos tensors from different ops.
// CHECK-LABEL: func.func @interleaved_different_cos
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_different_cos(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table17 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty18 = tensor.empty() : tensor<1x3x2xf32>
  %rows19 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty18 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table17[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast20 = tensor.expand_shape %rows19 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf22 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf26 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf22, %mulf24 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf28 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty29 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf30 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast20 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty29 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty31 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf32 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf28, %mulf30 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty31 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in33 = tensor.expand_shape %subf26 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in34 = tensor.expand_shape %addf32 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked35 = tensor.concat dim(4) %stack_in33, %stack_in34 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape37 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat36 = tensor.reshape %stacked35(%flat_shape37) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat36 : tensor<1x2x3x4xf32>
}

// -----

// cos and sin are gathered by different position ids.
// CHECK-LABEL: func.func @interleaved_positions_differ
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_positions_differ(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>, %other: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%other : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf26 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf28 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf24, %mulf26 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in29 = tensor.expand_shape %subf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in30 = tensor.expand_shape %addf28 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked31 = tensor.concat dim(4) %stack_in29, %stack_in30 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape33 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat32 = tensor.reshape %stacked31(%flat_shape33) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat32 : tensor<1x2x3x4xf32>
}

// -----

// The odd output is stacked first.
// CHECK-LABEL: func.func @interleaved_stack_order_swapped
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#unit3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#freq = affine_map<(d0, d1, d2) -> (d2)>
#scalar4 = affine_map<(d0, d1, d2, d3) -> ()>

func.func @interleaved_stack_order_swapped(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %pairs_shape1 = arith.constant dense<[1, 2, 3, 2, 2]> : tensor<5xindex>
  %pairs2 = tensor.reshape %x(%pairs_shape1) : (tensor<1x2x3x4xf32>, tensor<5xindex>) -> tensor<1x2x3x2x2xf32>
  %component3 = arith.constant dense<0> : tensor<i64>
  %pair_empty4 = tensor.empty() : tensor<1x2x3x2xf32>
  %even5 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component3 : tensor<i64>) outs(%pair_empty4 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %component6 = arith.constant dense<1> : tensor<i64>
  %pair_empty7 = tensor.empty() : tensor<1x2x3x2xf32>
  %odd8 = linalg.generic {indexing_maps = [#scalar4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%component6 : tensor<i64>) outs(%pair_empty7 : tensor<1x2x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = arith.index_cast %in : i64 to index
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %v = tensor.extract %pairs2[%i0, %i1, %i2, %i3, %c] : tensor<1x2x3x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x3x2xf32>
  %table9 = arith.constant dense<[[1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01]]> : tensor<6x2xf32>
  %rows_empty10 = tensor.empty() : tensor<1x3x2xf32>
  %rows11 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty10 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table9[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast12 = tensor.expand_shape %rows11 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %table13 = arith.constant dense<[[0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02]]> : tensor<6x2xf32>
  %rows_empty14 = tensor.empty() : tensor<1x3x2xf32>
  %rows15 = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%rows_empty14 : tensor<1x3x2xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table13[%row, %column] : tensor<6x2xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x2xf32>
  %bcast16 = tensor.expand_shape %rows15 [[0], [1, 2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %empty17 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf18 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty17 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty19 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf20 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty19 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty21 = tensor.empty() : tensor<1x2x3x2xf32>
  %subf22 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf18, %mulf20 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty21 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty23 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf24 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%even5, %bcast16 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty23 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty25 = tensor.empty() : tensor<1x2x3x2xf32>
  %mulf26 = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%odd8, %bcast12 : tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) outs(%empty25 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %empty27 = tensor.empty() : tensor<1x2x3x2xf32>
  %addf28 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mulf24, %mulf26 : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) outs(%empty27 : tensor<1x2x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %stack_in29 = tensor.expand_shape %addf28 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stack_in30 = tensor.expand_shape %subf22 [[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 2, 1] : tensor<1x2x3x2xf32> into tensor<1x2x3x2x1xf32>
  %stacked31 = tensor.concat dim(4) %stack_in29, %stack_in30 : (tensor<1x2x3x2x1xf32>, tensor<1x2x3x2x1xf32>) -> tensor<1x2x3x2x2xf32>
  %flat_shape33 = arith.constant dense<[1, 2, 3, 4]> : tensor<4xindex>
  %flat32 = tensor.reshape %stacked31(%flat_shape33) : (tensor<1x2x3x2x2xf32>, tensor<4xindex>) -> tensor<1x2x3x4xf32>
  return %flat32 : tensor<1x2x3x4xf32>
}
