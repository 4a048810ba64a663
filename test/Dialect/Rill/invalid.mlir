// RUN: rill-opt %s -split-input-file -verify-diagnostics

// expected-error@+1 {{expects window size to be >= 1 (got 0)}}
func.func @f() attributes {rill.test = #rill.window<0>} {
  return
}

// -----

// expected-error@+1 {{expects window parameter 'left' to be >= 0 (got -1)}}
func.func @f() attributes {rill.test = #rill.window<left = -1, right = 0>} {
  return
}

// -----

// expected-error@+1 {{expects window parameter 'right' to be >= 0 (got -3)}}
func.func @f() attributes {rill.test = #rill.window<left = 2, right = -3>} {
  return
}

// -----

// expected-error@+1 {{expects sinks parameter 'count' to be >= 0 (got -4)}}
func.func @f() attributes {rill.test = #rill.sinks<-4>} {
  return
}

// -----

// expected-error@+1 {{expects dilated parameter 'window' to be >= 1 (got 0)}}
func.func @f() attributes {rill.test = #rill.dilated<window = 0, dilation = 2>} {
  return
}

// -----

// expected-error@+1 {{expects dilated parameter 'dilation' to be >= 1 (got 0)}}
func.func @f() attributes {rill.test = #rill.dilated<window = 4, dilation = 0>} {
  return
}

// -----

// expected-error@+1 {{expects dilated 'window' * 'dilation' to fit in 64 bits (got 4611686018427387904 * 4)}}
func.func @f() attributes {rill.test = #rill.dilated<window = 4611686018427387904, dilation = 4>} {
  return
}

// -----

// expected-error@+1 {{expects chunked parameter 'size' to be >= 1 (got 0)}}
func.func @f() attributes {rill.test = #rill.chunked<0>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'block' to be >= 1 (got 0)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 0, global = 1, window = 3, random = 1>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'global' to be >= 0 (got -1)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = -1, window = 3, random = 1>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'window' to be >= 1 (got -1)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = -1, random = 1>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'window' to be odd (got 4)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = 4, random = 1>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'random' to be >= 0 (got -2)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = 3, random = -2>} {
  return
}

// -----

// expected-error@+1 {{expects bigbird parameter 'layer' to be >= 0 (got -1)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = 3, random = 1, layer = -1>} {
  return
}

// -----

// expected-error@+1 {{unknown bigbird parameter 'heads' (expected block, global, window, random, seed, layer or causal)}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = 3, random = 1, heads = 2>} {
  return
}

// -----

// expected-error@+1 {{bigbird parameter 'block' is given twice}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, block = 8, global = 1, window = 3, random = 1>} {
  return
}

// -----

// expected-error@+1 {{missing bigbird parameter 'random'}}
func.func @f() attributes {rill.test = #rill.bigbird<block = 4, global = 1, window = 3>} {
  return
}

// -----

// expected-error@+1 {{expects union to have at least one member mask (got 0)}}
func.func @f() attributes {rill.test = #rill.union<[]>} {
  return
}

// -----

// expected-error@+1 {{expects intersect to have at least one member mask (got 0)}}
func.func @f() attributes {rill.test = #rill.intersect<[]>} {
  return
}

// -----

// expected-error@+1 {{expects per_head to have at least one member mask (got 0)}}
func.func @f() attributes {rill.test = #rill.per_head<[]>} {
  return
}

// -----

// expected-error@+1 {{expects union member #1 to be a mask attribute (got 3 : i64)}}
func.func @f() attributes {rill.test = #rill.union<[#rill.causal, 3 : i64]>} {
  return
}

// -----

// expected-error@+1 {{expects per_head member #1 not to be a per_head mask (nested per_head masks are ambiguous)}}
func.func @f() attributes {rill.test = #rill.per_head<[#rill.causal, #rill.per_head<[#rill.causal]>]>} {
  return
}

// -----

// expected-error@+1 {{expects the per_head members of union to agree on the number of heads (got 1 and 2)}}
func.func @f() attributes {rill.test = #rill.union<[#rill.per_head<[#rill.causal]>, #rill.per_head<[#rill.causal, #rill.full]>]>} {
  return
}

// -----

func.func @f(%q: tensor<4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects query to have rank 4 [B, Hq, Tq, D] (got rank 3)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects key to have rank 4 [B, Hkv, Tk, D] (got rank 3)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects value to have rank 4 [B, Hkv, Tk, Dv] (got rank 5)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result to have rank 4 [B, Hq, Tq, Dv] (got rank 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xi32>, %k: tensor<1x2x8x16xi32>, %v: tensor<1x2x8x32xi32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects query to have a floating-point element type (got 'i32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xi32>, tensor<1x2x8x16xi32>, tensor<1x2x8x32xi32> -> tensor<1x4x8x32xi32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects key element type to match query (got 'f16', expected 'f32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf16>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xbf16>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects value element type to match query (got 'bf16', expected 'f32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xbf16> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result element type to match query (got 'f64', expected 'f32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf64>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects key dimension 0 (batch) to be 1 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<3x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects value dimension 0 (batch) to be 1 as in query (got 3)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects key dimension 3 (head size) to be 16 as in query (got 8)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects value dimension 1 (key-value heads) to be 2 as in key (got 4)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x9x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects value dimension 2 (key length) to be 8 as in key (got 9)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x9x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result dimension 0 (batch) to be 1 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<2x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result dimension 1 (query heads) to be 4 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result dimension 2 (query length) to be 8 as in query (got 1)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x1x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects result dimension 3 (value head size) to be 32 as in value (got 16)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %v: tensor<1x3x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects query heads (query dimension 1, got 4) to be a multiple of key-value heads (key dimension 1, got 3)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects the per-head mask to have one member per query head (got 2 members, query dimension 1 is 4)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.per_head<[#rill.causal, #rill.full]>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<8x8xf32>) {
  // expected-error@+1 {{'rill.attention' op expects bias to have rank 4 [B|1, Hq|1, Tq, Tk] (got rank 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<8x8xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<1x1x8x8xf16>) {
  // expected-error@+1 {{'rill.attention' op expects bias element type to match query (got 'f16', expected 'f32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<1x1x8x8xf16>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<2x1x8x8xf32>) {
  // expected-error@+1 {{'rill.attention' op expects bias dimension 0 (batch) to be 1 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<2x1x8x8xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<1x2x8x8xf32>) {
  // expected-error@+1 {{'rill.attention' op expects bias dimension 1 (query heads) to be 1 or 4 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<1x2x8x8xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<1x4x1x8xf32>) {
  // expected-error@+1 {{'rill.attention' op expects bias dimension 2 (query length) to be 8 as in query (got 1)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<1x4x1x8xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %b: tensor<1x4x8x16xf32>) {
  // expected-error@+1 {{'rill.attention' op expects bias dimension 3 (key length) to be 8 as in key (got 16)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) bias(%b : tensor<1x4x8x16xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %s: tensor<1x4xf32>) {
  // expected-error@+1 {{'rill.attention' op expects sink_logits to have rank 1 [Hq] (got rank 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) sinks(%s : tensor<1x4xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %s: tensor<4xf16>) {
  // expected-error@+1 {{'rill.attention' op expects sink_logits element type to match query (got 'f16', expected 'f32')}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) sinks(%s : tensor<4xf16>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index, %s: tensor<2xf32>) {
  // expected-error@+1 {{'rill.attention' op expects sink_logits dimension 0 (query heads) to be 4 as in query (got 2)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) sinks(%s : tensor<2xf32>)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>, %p: index) {
  // expected-error@+1 {{'rill.attention' op expects softcap to be positive (got 0.000000e+00)}}
  %0 = rill.attention %q, %k, %v at %p, %p mask(#rill.causal) softcap(0.0)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x8x32xf32>
  return
}

// -----

func.func @f(%x: tensor<4x8x16xf32>, %pos: tensor<1x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects input to have rank 4 [B, H, T, D] (got rank 3)}}
  %0 = rill.rotary %x at %pos : tensor<4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xi8>, %pos: tensor<1x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects input to have a floating-point element type (got 'i8')}}
  %0 = rill.rotary %x at %pos : tensor<1x4x8x16xi8>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects positions to have rank 2 [B, T] (got rank 1)}}
  %0 = rill.rotary %x at %pos : tensor<1x4x8x16xf32>, tensor<8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects positions to have a signless integer or index element type (got 'f32')}}
  %0 = rill.rotary %x at %pos : tensor<1x4x8x16xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x8x16xf32>, %pos: tensor<3x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects positions dimension 0 (batch) to be 1 or 2 as in input (got 3)}}
  %0 = rill.rotary %x at %pos : tensor<2x4x8x16xf32>, tensor<3x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x7xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects positions dimension 1 (sequence length) to be 8 as in input (got 7)}}
  %0 = rill.rotary %x at %pos : tensor<1x4x8x16xf32>, tensor<1x7xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects theta to be positive (got -1.000000e+00)}}
  %0 = rill.rotary %x at %pos {theta = -1.0 : f64} : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects rotary_dim to be positive and even (got 7)}}
  %0 = rill.rotary %x at %pos {rotary_dim = 7 : i64} : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>) {
  // expected-error@+1 {{'rill.rotary' op expects rotary_dim to be at most the head size (input dimension 3, 16) (got 32)}}
  %0 = rill.rotary %x at %pos {rotary_dim = 32 : i64} : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64xf32>, %s: tensor<64x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects cos_table to have rank 2 [max_pos, rotary_dim / 2] (got rank 1)}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64xf32>, tensor<64x8xf32>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>, %s: tensor<1x64x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects sin_table to have rank 2 [max_pos, rotary_dim / 2] (got rank 3)}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xf32>, tensor<1x64x8xf32>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xi32>, %s: tensor<64x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects cos_table to have a floating-point element type (got 'i32')}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xi32>, tensor<64x8xf32>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>, %s: tensor<64x8xf16>) {
  // expected-error@+1 {{'rill.rotary' op expects sin_table element type to match cos_table (got 'f16', expected 'f32')}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xf32>, tensor<64x8xf16>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>, %s: tensor<64x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects cos_table dimension 1 (rotary_dim / 2) to be 4 as in the rotary dimension (got 8)}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xf32>, tensor<64x8xf32>) {rotary_dim = 8 : i64} : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>, %s: tensor<32x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects sin_table dimension 0 (max_pos) to be 64 as in cos_table (got 32)}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xf32>, tensor<32x8xf32>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>, %s: tensor<64x4xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects sin_table dimension 1 (rotary_dim / 2) to be 8 as in the rotary dimension (got 4)}}
  %0 = rill.rotary %x at %pos tables(%c, %s : tensor<64x8xf32>, tensor<64x4xf32>) : tensor<1x4x8x16xf32>, tensor<1x8xi64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x16xf32>, %pos: tensor<1x8xi64>, %c: tensor<64x8xf32>) {
  // expected-error@+1 {{'rill.rotary' op expects cos_table and sin_table together (got only cos_table)}}
  %0 = "rill.rotary"(%x, %pos, %c) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>, theta = 1.0e+04 : f64}>
      : (tensor<1x4x8x16xf32>, tensor<1x8xi64>, tensor<64x8xf32>) -> tensor<1x4x8x16xf32>
  return
}
