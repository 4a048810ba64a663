// rill-streamify options: defaults from the mask, the window policy and the
// dense-within-chunk prefill.
// RUN: rill-opt %s --rill-streamify | FileCheck %s --check-prefix=MASK
// RUN: rill-opt %s --rill-streamify="policy=window sinks=0 capacity=16 prefill=dense-within-chunk" | FileCheck %s --check-prefix=DENSE
// RUN: rill-opt %s --rill-streamify="position-policy=original" | FileCheck %s --check-prefix=ORIGINAL

// The mask sinks(2)|window(6) gives the defaults sinks 2 and capacity 8.
// MASK-LABEL: func.func @step
// MASK-SAME: rill.streaming.capacity = 8 : i64
// MASK-SAME: rill.streaming.sinks = 2 : i64

// The dense-within-chunk prefill rotates sink-segment queries at
// min(s, capacity) + i and marks the op.
// DENSE-LABEL: func.func @step
// DENSE-SAME: rill.streaming.capacity = 16 : i64, rill.streaming.policy = "window"
// DENSE-SAME: rill.streaming.prefill = "dense-within-chunk"
// DENSE-SAME: rill.streaming.sinks = 0 : i64
// DENSE: linalg.generic
// DENSE: linalg.generic
// DENSE: arith.minsi
// DENSE-NEXT: arith.addi
// DENSE: rill.cache_attention
// DENSE-SAME: {dense_within_chunk}
// position-policy=original rotates the query once, at its stream position,
// and passes it as the sink-segment query too.
// ORIGINAL-LABEL: func.func @step
// ORIGINAL-SAME: rill.streaming.position_policy = "original"
// ORIGINAL: %[[Q:.*]] = rill.rotary
// ORIGINAL-NOT: rill.rotary
// ORIGINAL: %[[K:.*]] = rill.rotary
// ORIGINAL: rill.cache_attention %[[Q]], %[[Q]], %[[K]]
func.func @sinks_window_mask(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
                             %pos: tensor<?x?xi64> {rill.name = "position_ids"})
    -> tensor<?x2x?x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %empty = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(b, h, t, d) -> (b, t)>,
                                        affine_map<(b, h, t, d) -> (b, h, t, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ids : tensor<?x?xi64>) outs(%empty : tensor<?x2x?x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %f = arith.sitofp %in : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x2x?x4xf32>
  %q = rill.rotary %x at %pos {interleaved} : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %k = rill.rotary %x at %pos {interleaved} : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %a = rill.attention %q, %k, %x at %c0, %c0
      mask(#rill.union<[#rill.sinks<2>, #rill.window<6>]>)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a : tensor<?x2x?x4xf32>
}

// MASK: rill.cache_attention
