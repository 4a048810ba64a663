// Each case is one RoPE subgraph in the form the ONNX importer emits for a
// Hugging Face Llama export: cos and sin rows gathered by position ids,
// x * cos + concat(-x2, x1) * sin. Static shapes B=1, H=2, T=3, D=4.

// RUN: rill-opt %s --split-input-file --rill-fuse-attention | FileCheck %s

// Hugging Face's rotate_half with cos and sin gathered from [6, 4] tables by
// position ids. The op gets the first half of each table.
// CHECK-LABEL: func.func @fuse_rotate_half_tables
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK-DAG: %[[COS:.*]] = tensor.extract_slice %{{.*}}[0, 0] [6, 2] [1, 1] : tensor<6x4xf32> to tensor<6x2xf32>
// CHECK-DAG: %[[SIN:.*]] = tensor.extract_slice %{{.*}}[0, 0] [6, 2] [1, 1] : tensor<6x4xf32> to tensor<6x2xf32>
// CHECK: %[[R:.*]] = rill.rotary %[[X]] at %[[POS]] tables(%[[COS]], %[[SIN]] : tensor<6x2xf32>, tensor<6x2xf32>) {rotary_dim = 4 : i64} : tensor<1x2x3x4xf32>, tensor<1x3xi64>
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @fuse_rotate_half_tables(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01, 5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01, -4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01, -9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01, -6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01, 2.836622e-01, 9.987503e-01]]> : tensor<6x4xf32>
  %sin_table = arith.constant dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03, 8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02, 9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02, 1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02, -7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02, -9.589243e-01, 4.997917e-02]]> : tensor<6x4xf32>
  %cos_empty = tensor.empty() : tensor<1x3x4xf32>
  %cos_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%cos_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %cos_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %cos = tensor.expand_shape %cos_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %sin_empty = tensor.empty() : tensor<1x3x4xf32>
  %sin_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%sin_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %sin_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %sin = tensor.expand_shape %sin_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %x_cos_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %x_cos = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%x_cos_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty = tensor.empty() : tensor<1x2x3x2xf32>
  %negated = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high : tensor<1x2x3x2xf32>) outs(%neg_empty : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = tensor.concat dim(3) %negated, %low : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rot_sin_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %rot_sin = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated, %sin : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%rot_sin_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %sum_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x_cos, %rot_sin : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%sum_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.addf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %sum : tensor<1x2x3x4xf32>
}

// -----

// The cos table does not repeat its first half, so it is no rotate-half table.
// CHECK-LABEL: func.func @no_fusion_when_table_halves_differ
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @no_fusion_when_table_halves_differ(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01, 8.775826e-01, 9.998000e-01], [-4.161468e-01, 9.998000e-01, 5.403023e-01, 9.992001e-01], [-9.899925e-01, 9.995500e-01, 7.073720e-02, 9.982005e-01], [-6.536436e-01, 9.992001e-01, -4.161468e-01, 9.968017e-01], [2.836622e-01, 9.987503e-01, -8.011436e-01, 9.950042e-01]]> : tensor<6x4xf32>
  %sin_table = arith.constant dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03, 8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02, 9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02, 1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02, -7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02, -9.589243e-01, 4.997917e-02]]> : tensor<6x4xf32>
  %cos_empty = tensor.empty() : tensor<1x3x4xf32>
  %cos_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%cos_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %cos_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %cos = tensor.expand_shape %cos_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %sin_empty = tensor.empty() : tensor<1x3x4xf32>
  %sin_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%sin_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %sin_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %sin = tensor.expand_shape %sin_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %x_cos_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %x_cos = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%x_cos_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty = tensor.empty() : tensor<1x2x3x2xf32>
  %negated = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high : tensor<1x2x3x2xf32>) outs(%neg_empty : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = tensor.concat dim(3) %negated, %low : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rot_sin_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %rot_sin = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated, %sin : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%rot_sin_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %sum_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x_cos, %rot_sin : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%sum_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.addf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %sum : tensor<1x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @no_fusion_when_positions_differ
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @no_fusion_when_positions_differ(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>, %other: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01, 5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01, -4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01, -9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01, -6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01, 2.836622e-01, 9.987503e-01]]> : tensor<6x4xf32>
  %sin_table = arith.constant dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03, 8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02, 9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02, 1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02, -7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02, -9.589243e-01, 4.997917e-02]]> : tensor<6x4xf32>
  %cos_empty = tensor.empty() : tensor<1x3x4xf32>
  %cos_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%cos_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %cos_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %cos = tensor.expand_shape %cos_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %sin_empty = tensor.empty() : tensor<1x3x4xf32>
  %sin_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%other : tensor<1x3xi64>) outs(%sin_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %sin_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %sin = tensor.expand_shape %sin_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %x_cos_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %x_cos = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%x_cos_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %neg_empty = tensor.empty() : tensor<1x2x3x2xf32>
  %negated = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%high : tensor<1x2x3x2xf32>) outs(%neg_empty : tensor<1x2x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x2xf32>
  %low = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = tensor.concat dim(3) %negated, %low : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rot_sin_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %rot_sin = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated, %sin : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%rot_sin_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %sum_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x_cos, %rot_sin : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%sum_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.addf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %sum : tensor<1x2x3x4xf32>
}

// -----

// concat(x2, x1) without the negation is no rotation.
// CHECK-LABEL: func.func @no_fusion_without_negated_half
// CHECK-NOT: rill.rotary

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#heads = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @no_fusion_without_negated_half(%x: tensor<1x2x3x4xf32>, %positions: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.999500e-01, 5.403023e-01, 9.999500e-01], [-4.161468e-01, 9.998000e-01, -4.161468e-01, 9.998000e-01], [-9.899925e-01, 9.995500e-01, -9.899925e-01, 9.995500e-01], [-6.536436e-01, 9.992001e-01, -6.536436e-01, 9.992001e-01], [2.836622e-01, 9.987503e-01, 2.836622e-01, 9.987503e-01]]> : tensor<6x4xf32>
  %sin_table = arith.constant dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.999833e-03, 8.414710e-01, 9.999833e-03], [9.092974e-01, 1.999867e-02, 9.092974e-01, 1.999867e-02], [1.411200e-01, 2.999550e-02, 1.411200e-01, 2.999550e-02], [-7.568025e-01, 3.998933e-02, -7.568025e-01, 3.998933e-02], [-9.589243e-01, 4.997917e-02, -9.589243e-01, 4.997917e-02]]> : tensor<6x4xf32>
  %cos_empty = tensor.empty() : tensor<1x3x4xf32>
  %cos_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%cos_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %cos_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %cos = tensor.expand_shape %cos_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %sin_empty = tensor.empty() : tensor<1x3x4xf32>
  %sin_rows = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%positions : tensor<1x3xi64>) outs(%sin_empty : tensor<1x3x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %negative = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c6 : index
    %index = arith.select %negative, %wrapped, %row : index
    %column = linalg.index 2 : index
    %value = tensor.extract %sin_table[%index, %column] : tensor<6x4xf32>
    linalg.yield %value : f32
  } -> tensor<1x3x4xf32>
  %sin = tensor.expand_shape %sin_rows [[0], [1, 2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %x_cos_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %x_cos = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%x_cos_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %high = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %negated = tensor.cast %high : tensor<1x2x3x2xf32> to tensor<1x2x3x2xf32>
  %low = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %rotated = tensor.concat dim(3) %negated, %low : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rot_sin_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %rot_sin = linalg.generic {indexing_maps = [#id4, #heads, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rotated, %sin : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) outs(%rot_sin_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.mulf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  %sum_empty = tensor.empty() : tensor<1x2x3x4xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x_cos, %rot_sin : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) outs(%sum_empty : tensor<1x2x3x4xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %r = arith.addf %in, %in_0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x4xf32>
  return %sum : tensor<1x2x3x4xf32>
}
