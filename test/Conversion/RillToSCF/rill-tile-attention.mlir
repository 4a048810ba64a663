// RUN: rill-opt %s -split-input-file --rill-tile-attention="key-tile=64" | FileCheck %s
// RUN: rill-opt %s -split-input-file --rill-tile-attention="key-tile=64 parallel=false" | FileCheck %s --check-prefix=SEQ

// The StreamingLLM mask with constant positions: the compile-time table of
// the only query block lists the sink tile 0 and the window tiles 14 and 15
// (keys 896..1023), never the middle tiles 1..13. Only the sink tile needs
// the mask predicate.

// CHECK-LABEL: func.func @streaming_static
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x8x1x64xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x1024x64xf32>
// CHECK: %[[KBUF:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK: scf.parallel (%[[B:.+]], %[[G:.+]], %[[QB:.+]]) =
// CHECK: memref.alloca_scope
// CHECK: arith.constant dense<[0, 3]> : tensor<2xi32>
// CHECK: arith.constant dense<[0, 14, 15]> : tensor<3xi32>
// CHECK: arith.constant dense<[0, 1, 1]> : tensor<3xi32>
// CHECK: scf.if
// Full tiles: the K tile is read at the group's key/value head, and no
// integer comparison (mask arithmetic) appears before the partial branch.
// CHECK-NOT: arith.cmpi
// CHECK: vector.load %[[KBUF]][%[[B]], %[[G]],
// CHECK-NOT: arith.cmpi
// CHECK: } else {
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: rill.tiles_full = 2 : i64, rill.tiles_partial = 1 : i64, rill.tiles_total = 16 : i64
// SEQ-LABEL: func.func @streaming_static
// SEQ-NOT: scf.parallel
// SEQ: scf.for
func.func @streaming_static(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1024x64xf32>,
                            %v: tensor<1x2x1024x64xf32>) -> tensor<1x8x1x64xf32> {
  %qp = arith.constant 1023 : index
  %kp = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %qp, %kp
      mask(#rill.union<[#rill.sinks<4>, #rill.window<128>]>)
      : tensor<1x8x1x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>
      -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// With positions known only at run time, the key tiles come from two loops:
// the sink tiles [0, sinkEnd) and the window tiles [windowBegin, end), with
// end bounded by causality. Tiles between the two ranges are never visited.

// CHECK-LABEL: func.func @streaming_dynamic
// CHECK: %[[SINK_TILES:[0-9]+]] = arith.ceildivsi %{{[0-9]+}}, %c64
// CHECK-NEXT: %[[SINK_NONNEGATIVE:[0-9]+]] = arith.maxsi %{{.+}}, %[[SINK_TILES]] : index
// CHECK-NEXT: %[[SINK_END:[0-9]+]] = arith.minsi %[[END:[0-9]+]], %[[SINK_NONNEGATIVE]] : index
// CHECK: %[[WINDOW_BEGIN:[0-9]+]] = arith.minsi %[[END]], %{{[0-9]+}} : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[SINK_END]] step
// CHECK: scf.for %{{.+}} = %[[WINDOW_BEGIN]] to %[[END]] step
// CHECK-NOT: rill.tiles_total
func.func @streaming_dynamic(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1024x64xf32>,
                             %v: tensor<1x2x1024x64xf32>, %qp: index, %kp: index)
    -> tensor<1x8x1x64xf32> {
  %o = rill.attention %q, %k, %v at %qp, %kp
      mask(#rill.union<[#rill.sinks<4>, #rill.window<128>]>)
      : tensor<1x8x1x64xf32>, tensor<1x2x1024x64xf32>, tensor<1x2x1024x64xf32>
      -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// A causal prefill with run-time positions tests each tile for fullness
// (latest key <= earliest query) and runs the predicate only on the rest.
// With 100 query rows the block's rows occupy vector lanes: scores are
// FMAs of the transposed query with broadcast key elements, and partial
// tiles insert one predicate per lane into an i1 vector.

// CHECK-LABEL: func.func @causal_dynamic
// CHECK: %[[FULL:.+]] = arith.cmpi sle, %{{.+}}, %{{.+}} : index
// CHECK: scf.if %[[FULL]] {
// CHECK-NOT: arith.cmpi
// CHECK: vector.fma
// CHECK-NOT: arith.cmpi
// CHECK: } else {
// CHECK: vector.fma
// CHECK: %[[VISIBLE:.+]] = arith.cmpi sle, %{{.+}}, %{{.+}} : index
// CHECK: vector.insert %[[VISIBLE]]
func.func @causal_dynamic(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x100x32xf32>,
                          %v: tensor<1x2x100x32xf32>, %qp: index, %kp: index)
    -> tensor<1x2x100x32xf32> {
  %o = rill.attention %q, %k, %v at %qp, %kp mask(#rill.causal)
      : tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>
      -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

// -----

// BigBird with one global block and a one-block window: BigBird block b
// sees key blocks 0 and b only. With query blocks of 16 rows and key tiles
// of 64 keys, the 4 query blocks inside BigBird block 0 visit all 4 key
// tiles and the 12 others visit 2, all full: 40 of 64 tiles.

// CHECK-LABEL: func.func @bigbird_static
// CHECK: arith.constant dense<[0, 4, 8, 12, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40]> : tensor<17xi32>
// CHECK-NOT: scf.if
// CHECK: rill.tiles_full = 40 : i64, rill.tiles_partial = 0 : i64, rill.tiles_total = 64 : i64
func.func @bigbird_static(%q: tensor<1x1x256x16xf32>, %k: tensor<1x1x256x16xf32>,
                          %v: tensor<1x1x256x16xf32>) -> tensor<1x1x256x16xf32> {
  %c0 = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %c0, %c0
      mask(#rill.bigbird<block = 64, global = 1, window = 1, random = 0, seed = 1>)
      : tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>
      -> tensor<1x1x256x16xf32>
  return %o : tensor<1x1x256x16xf32>
}

// -----

// A mask that shows nothing visits no tile: no score is ever computed and
// the output rows are zeros.

// CHECK-LABEL: func.func @empty_mask
// CHECK-NOT: vector.reduction
// CHECK: rill.tiles_full = 0 : i64, rill.tiles_partial = 0 : i64, rill.tiles_total = 1 : i64
func.func @empty_mask(%q: tensor<1x1x4x16xf32>, %k: tensor<1x1x8x16xf32>,
                      %v: tensor<1x1x8x16xf32>) -> tensor<1x1x4x16xf32> {
  %c0 = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %c0, %c0 mask(#rill.sinks<0>)
      : tensor<1x1x4x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
      -> tensor<1x1x4x16xf32>
  return %o : tensor<1x1x4x16xf32>
}

// -----

// Bias, soft-capping and sink logits: tanh on the scaled scores, a masked
// bias load along the keys, and the sink logit in the final normalization.

// CHECK-LABEL: func.func @bias_softcap_sinks
// CHECK-SAME: %[[BIAS:[a-z0-9]+]]: tensor<1x4x3x40xf32>, %[[SINKS:[a-z0-9]+]]: tensor<4xf32>
// CHECK-DAG: %[[BIASBUF:.+]] = bufferization.to_buffer %[[BIAS]] read_only
// CHECK-DAG: %[[SINKBUF:.+]] = bufferization.to_buffer %[[SINKS]] read_only
// CHECK: math.tanh
// CHECK: vector.maskedload %[[BIASBUF]]
// CHECK: memref.load %[[SINKBUF]]
func.func @bias_softcap_sinks(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x40x16xf32>,
                              %v: tensor<1x2x40x16xf32>, %bias: tensor<1x4x3x40xf32>,
                              %sinks: tensor<4xf32>, %qp: index)
    -> tensor<1x4x3x16xf32> {
  %c0 = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %qp, %c0 mask(#rill.causal) softcap(30.0)
      bias(%bias : tensor<1x4x3x40xf32>) sinks(%sinks : tensor<4xf32>)
      : tensor<1x4x3x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>
      -> tensor<1x4x3x16xf32>
  return %o : tensor<1x4x3x16xf32>
}

// -----

// Element types other than f32 are left for rill-decompose-attention.

// CHECK-LABEL: func.func @f16_unchanged
// CHECK: rill.attention
// CHECK-NOT: scf.parallel
func.func @f16_unchanged(%q: tensor<1x1x4x16xf16>, %k: tensor<1x1x8x16xf16>,
                         %v: tensor<1x1x8x16xf16>) -> tensor<1x1x4x16xf16> {
  %c0 = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %c0, %c0 mask(#rill.causal)
      : tensor<1x1x4x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>
      -> tensor<1x1x4x16xf16>
  return %o : tensor<1x1x4x16xf16>
}

// -----

// Dynamic head sizes are left for rill-decompose-attention.

// CHECK-LABEL: func.func @dynamic_head_dim_unchanged
// CHECK: rill.attention
func.func @dynamic_head_dim_unchanged(%q: tensor<1x1x4x?xf32>, %k: tensor<1x1x8x?xf32>,
                                      %v: tensor<1x1x8x16xf32>) -> tensor<1x1x4x16xf32> {
  %c0 = arith.constant 0 : index
  %o = rill.attention %q, %k, %v at %c0, %c0 mask(#rill.causal) scale(0.25)
      : tensor<1x1x4x?xf32>, tensor<1x1x8x?xf32>, tensor<1x1x8x16xf32>
      -> tensor<1x1x4x16xf32>
  return %o : tensor<1x1x4x16xf32>
}
