// Verifier errors of rill.cache_attention and rill.cache_update, one case
// per check.
// RUN: rill-opt %s -split-input-file -verify-diagnostics

func.func @key_rank(%q: tensor<1x8x1x8xf32>, %k: tensor<4x1x8xf32>, %v: tensor<1x4x1x8xf32>,
                    %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects key to have rank 4 [B, Hkv, T, D] (got rank 3)}}
  %0 = rill.cache_attention %q, %q, %k, %v, %c, %c at %pos sinks(%s) capacity(%s)
      : tensor<1x8x1x8xf32>, tensor<4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @positions_type(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                          %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi32>, %s: index) {
  // expected-error@+1 {{expects positions to have i64 elements (got 'i32')}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi32> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @cache_head_size(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                           %c: tensor<1x4x64x16xf32>, %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects key_cache dimension 3 (head size) to be 8 as in key (got 16)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @value_cache_capacity(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                %kc: tensor<1x4x64x8xf32>, %vc: tensor<1x4x32x8xf32>,
                                %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects value_cache dimension 2 (capacity) to be 64 as in key_cache (got 32)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %kc, %vc at %pos sinks(%s) capacity(%s)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x32x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @sinks_not_below_capacity(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                    %c: tensor<1x4x4x8xf32>, %pos: tensor<1xi64>) {
  %four = arith.constant 4 : index
  // expected-error@+1 {{expects sinks (4) to be less than capacity (4) so that the window has at least one slot}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%four) capacity(%four)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @capacity_not_cache_length(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                     %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index) {
  %cap = arith.constant 32 : index
  // expected-error@+1 {{expects capacity (32) to equal key_cache dimension 2 (got 64)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%cap)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @capacity_not_positive(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                 %c: tensor<1x4x?x8xf32>, %pos: tensor<1xi64>, %s: index) {
  %zero = arith.constant 0 : index
  // expected-error@+1 {{expects capacity to be positive (got 0)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%zero)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @query_heads_not_multiple(%q: tensor<1x6x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                    %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects query heads (query dimension 1, got 6) to be a multiple of key-value heads (key dimension 1, got 4)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      : tensor<1x6x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x6x1x8xf32>
  return
}

// -----

func.func @query_chunk_length(%q: tensor<1x8x2x8xf32>, %k: tensor<1x4x1x8xf32>,
                              %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects query dimension 2 (chunk length) to be 1 as in key (got 2)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      : tensor<1x8x2x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x2x8xf32>
  return
}

// -----

func.func @softcap_not_positive(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                                %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects softcap to be positive (got 0.000000e+00)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      softcap(0.0)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @sink_logits_heads(%q: tensor<1x8x1x8xf32>, %k: tensor<1x4x1x8xf32>,
                             %c: tensor<1x4x64x8xf32>, %pos: tensor<1xi64>, %s: index,
                             %l: tensor<4xf32>) {
  // expected-error@+1 {{expects sink_logits dimension 0 (query heads) to be 8 as in query (got 4)}}
  %0 = rill.cache_attention %q, %q, %k, %k, %c, %c at %pos sinks(%s) capacity(%s)
      sink_logits(%l : tensor<4xf32>)
      : tensor<1x8x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1xi64> -> tensor<1x8x1x8xf32>
  return
}

// -----

func.func @update_value_type(%k: tensor<1x4x1x8xf32>, %v: tensor<1x4x1x8xf16>,
                             %kc: tensor<1x4x64x8xf32>, %vc: tensor<1x4x64x8xf16>,
                             %pos: tensor<1xi64>, %s: index) {
  // expected-error@+1 {{expects value element type to match key (got 'f16', expected 'f32')}}
  %0:2 = rill.cache_update %k, %v into %kc, %vc at %pos sinks(%s) capacity(%s)
      : tensor<1x4x1x8xf32>, tensor<1x4x1x8xf16>, tensor<1x4x64x8xf32>,
        tensor<1x4x64x8xf16>, tensor<1xi64>
  return
}

// -----

func.func @update_negative_sinks(%k: tensor<1x4x1x8xf32>, %kc: tensor<1x4x64x8xf32>,
                                 %pos: tensor<1xi64>, %s: index) {
  %minus = arith.constant -1 : index
  // expected-error@+1 {{expects sinks to be non-negative (got -1)}}
  %0:2 = rill.cache_update %k, %k into %kc, %kc at %pos sinks(%minus) capacity(%s)
      : tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>, tensor<1x4x64x8xf32>,
        tensor<1x4x64x8xf32>, tensor<1xi64>
  return
}

// -----

func.func @update_positions_batch(%k: tensor<2x4x1x8xf32>, %kc: tensor<2x4x64x8xf32>,
                                  %pos: tensor<3xi64>, %s: index) {
  // expected-error@+1 {{expects positions dimension 0 (batch) to be 2 as in key (got 3)}}
  %0:2 = rill.cache_update %k, %k into %kc, %kc at %pos sinks(%s) capacity(%s)
      : tensor<2x4x1x8xf32>, tensor<2x4x1x8xf32>, tensor<2x4x64x8xf32>,
        tensor<2x4x64x8xf32>, tensor<3xi64>
  return
}
