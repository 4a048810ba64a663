// rill-streamify rejects invalid option values and inconsistent default
// geometry, naming the option.
// RUN: not rill-opt %s --rill-streamify="policy=stream" 2>&1 | FileCheck %s --check-prefix=POLICY
// RUN: not rill-opt %s --rill-streamify="prefill=dense" 2>&1 | FileCheck %s --check-prefix=PREFILL
// RUN: not rill-opt %s --rill-streamify="position-policy=learned" 2>&1 | FileCheck %s --check-prefix=POSITION
// RUN: not rill-opt %s --rill-streamify="window=0" 2>&1 | FileCheck %s --check-prefix=WINDOW
// RUN: not rill-opt %s --rill-streamify="policy=window sinks=4 window=8" 2>&1 | FileCheck %s --check-prefix=SINKS

// POLICY: invalid 'policy' option 'stream'; expected 'sinks', 'window', 'dense' or 'recompute'
// PREFILL: invalid 'prefill' option 'dense'; expected 'mask-exact' or 'dense-within-chunk'
// POSITION: invalid 'position-policy' option 'learned'; expected 'rotary', 'clamped-absolute' or 'original'
// WINDOW: expected sinks >= 0, window >= 1 and capacity = sinks + window (got sinks 4, window 0, capacity 4)
// SINKS: policy 'window' needs sinks=0 (got 4)
func.func @decoder(%ids: tensor<?x?xi64> {rill.name = "input_ids"},
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
  %q = rill.rotary %x at %pos : tensor<?x2x?x4xf32>, tensor<?x?xi64>
  %a = rill.attention %q, %q, %x at %c0, %c0 mask(#rill.causal)
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %a : tensor<?x2x?x4xf32>
}
