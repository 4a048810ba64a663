// Block sizes that are not positive, or too large to live in registers, are
// rejected with the values at fault.
// RUN: not rill-opt %s --rill-model-codegen="row-tile=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not rill-opt %s --rill-model-codegen="row-tile=-5 column-vectors=2 vector-width=65" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not rill-opt %s --rill-model-codegen="row-tile=3000" 2>&1 | FileCheck %s --check-prefix=LARGE
// RUN: not rill-opt %s --rill-model-codegen="min-accumulators=0" 2>&1 | FileCheck %s --check-prefix=ACCUMULATORS
// A product of factors that wraps around to a small number is still rejected.
// RUN: not rill-opt %s --rill-model-codegen="row-tile=4611686018427387904 column-vectors=4" 2>&1 | FileCheck %s --check-prefix=OVERFLOW

// ZERO: rill-model-codegen: invalid block (row-tile 0, column-vectors 2, vector-width 8, min-accumulators 8); expected positive values with row-tile x column-vectors <= 64, vector-width <= 64 and min-accumulators <= 64
// NEGATIVE: invalid block (row-tile -5, column-vectors 2, vector-width 65, min-accumulators 8)
// LARGE: invalid block (row-tile 3000, column-vectors 2, vector-width 8, min-accumulators 8)
// ACCUMULATORS: invalid block (row-tile 6, column-vectors 2, vector-width 8, min-accumulators 0)
// OVERFLOW: invalid block (row-tile 4611686018427387904, column-vectors 4,
func.func @f(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<4x16xf32>, tensor<16x8xf32>) outs(%init : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
