// RUN: not rill-exec %s --entry missing 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not rill-exec %s --entry scale 2>&1 | FileCheck %s --check-prefix=NO-INPUT
// RUN: not rill-exec %s 2>&1 | FileCheck %s --check-prefix=NO-ENTRY
// RUN: not rill-exec %s --entry scale --inputs %t.missing.npz 2>&1 | FileCheck %s --check-prefix=NO-FILE
// RUN: rill-exec %s --list-functions | FileCheck %s --check-prefix=LIST

// Every failure is one "error:" line naming the function, argument or file
// at fault, and a non-zero exit status.

// UNKNOWN: rill-exec: error: {{.*}}: function @missing not found; the module's public functions are: @scale, @memref_argument
// NO-INPUT: rill-exec: error: {{.*}}: function @scale: missing input 'x' for argument 0 (tensor<?xf32>); the inputs are: (none)
// NO-ENTRY: rill-exec: error: missing --entry; run with --list-functions to see the callable functions
// NO-FILE: rill-exec: error: cannot read '{{.*}}.missing.npz'

// LIST: @scale(x: tensor<?xf32>, arg1: f32) -> (result0: tensor<?xf32>)
// LIST: @memref_argument(arg0: memref<4xf32>) -> ()  [not callable: argument 0: type memref<4xf32> is not supported (expected a ranked tensor or an integer, index or float scalar)]
func.func @scale(%x: tensor<?xf32> {rill.name = "x"}, %factor: f32) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %size = tensor.dim %x, %c0 : tensor<?xf32>
  %init = tensor.empty(%size) : tensor<?xf32>
  %out = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf32>) outs(%init : tensor<?xf32>) {
  ^bb0(%in: f32, %unused: f32):
    %scaled = arith.mulf %in, %factor : f32
    linalg.yield %scaled : f32
  } -> tensor<?xf32>
  return %out : tensor<?xf32>
}

func.func @memref_argument(%m: memref<4xf32>) {
  return
}

func.func private @helper_is_not_listed(%x: f32) -> f32 {
  return %x : f32
}
