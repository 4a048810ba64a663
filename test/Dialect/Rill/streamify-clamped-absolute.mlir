// rill-streamify with position-policy=clamped-absolute on a model with a
// learned absolute position table.
// RUN: rill-opt %s --rill-streamify="position-policy=clamped-absolute window=12" | FileCheck %s --check-prefix=ABS

// A learned absolute position table (GPT-2 style) reads min(t, capacity - 1)
// under position-policy=clamped-absolute; there is no rotary.
// ABS-LABEL: func.func @step
// ABS-SAME: rill.streaming.capacity = 16 : i64
// ABS-SAME: rill.streaming.position_policy = "clamped-absolute"
// ABS-NOT: rill.rotary
// ABS: %[[CLAMPED:.+]] = linalg.generic
// ABS: arith.addi
// ABS: arith.minsi
// ABS: linalg.generic {{.*}} ins(%[[CLAMPED]] : tensor<?x?xi64>)
// ABS: rill.cache_attention
// ABS-NOT: rill.rotary
func.func @learned_positions(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
                             %pos: tensor<?x?xi64> {rill.name = "position_ids"})
    -> tensor<?x2x?x4xf32> {
  %table = arith.constant dense<0.5> : tensor<32x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %empty = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(b, h, t, d) -> (b, t)>,
                                        affine_map<(b, h, t, d) -> (b, h, t, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pos : tensor<?x?xi64>) outs(%empty : tensor<?x2x?x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = arith.index_cast %in : i64 to index
    %col = linalg.index 3 : index
    %e = tensor.extract %table[%row, %col] : tensor<32x4xf32>
    linalg.yield %e : f32
  } -> tensor<?x2x?x4xf32>
  %a = rill.attention %x, %x, %x at %c0, %c0 mask(#rill.union<[#rill.sinks<4>, #rill.window<12>]>)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a : tensor<?x2x?x4xf32>
}
