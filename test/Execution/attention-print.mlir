// RUN: rill-exec %s --entry attention --print | FileCheck %s --check-prefix=ATTENTION
// RUN: rill-exec %s --entry rotary --print | FileCheck %s --check-prefix=ROTARY

// With all-zero queries and keys every visible key gets the same weight, so
// each output row is the mean of the visible value rows, which makes the
// expected values easy to derive by hand.

// sinks<1> | window<2> from position 0: rows see {0}, {0, 1}, {0, 1, 2} and
// {0, 2, 3}.
// ATTENTION:      streaming: float32[1, 1, 4, 2]
// ATTENTION-NEXT: {{\[\[\[\[}}1, 10],
// ATTENTION-NEXT:  [1.5, 15],
// ATTENTION-NEXT:  [2, 20],
// ATTENTION-NEXT:  [2.6666667, 26.666666]]]]

// causal with keys starting at position 1: row 0 sees no key and is zero.
// ATTENTION:      shifted_keys: float32[1, 1, 4, 2]
// ATTENTION-NEXT: {{\[\[\[\[}}0, 0],
// ATTENTION-NEXT:  [1, 10],
// ATTENTION-NEXT:  [1.5, 15],
// ATTENTION-NEXT:  [2, 20]]]]
func.func @attention() -> (tensor<1x1x4x2xf32> {rill.name = "streaming"}, tensor<1x1x4x2xf32> {rill.name = "shifted_keys"}) {
  %zeros = arith.constant dense<0.0> : tensor<1x1x4x2xf32>
  %v = arith.constant dense<[[[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]]]]> : tensor<1x1x4x2xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %streaming = rill.attention %zeros, %zeros, %v at %c0, %c0
      mask(#rill.union<[#rill.sinks<1>, #rill.window<2>]>)
      : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  %shifted = rill.attention %zeros, %zeros, %v at %c0, %c1 mask(#rill.causal)
      : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  return %streaming, %shifted : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>
}

// A quarter turn from the tables (cos 0, sin 1) maps each pair (a, b) to
// (-b, a): pairs (0, 2), (1, 3) half-split and (0, 1), (2, 3) interleaved.
// ROTARY:      half_split: float32[1, 1, 1, 4]
// ROTARY-NEXT: {{\[\[\[\[}}-3, -4, 1, 2]]]]
// ROTARY:      interleaved: float32[1, 1, 1, 4]
// ROTARY-NEXT: {{\[\[\[\[}}-2, 1, -4, 3]]]]
func.func @rotary() -> (tensor<1x1x1x4xf32> {rill.name = "half_split"}, tensor<1x1x1x4xf32> {rill.name = "interleaved"}) {
  %x = arith.constant dense<[[[[1.0, 2.0, 3.0, 4.0]]]]> : tensor<1x1x1x4xf32>
  %positions = arith.constant dense<0> : tensor<1x1xi64>
  %cos = arith.constant dense<0.0> : tensor<1x2xf32>
  %sin = arith.constant dense<1.0> : tensor<1x2xf32>
  %half_split = rill.rotary %x at %positions tables(%cos, %sin : tensor<1x2xf32>, tensor<1x2xf32>)
      : tensor<1x1x1x4xf32>, tensor<1x1xi64>
  %interleaved = rill.rotary %x at %positions tables(%cos, %sin : tensor<1x2xf32>, tensor<1x2xf32>) {interleaved}
      : tensor<1x1x1x4xf32>, tensor<1x1xi64>
  return %half_split, %interleaved : tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>
}
