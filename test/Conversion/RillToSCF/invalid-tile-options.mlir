// Tiles that are not positive, or too large for the tile buffers on each
// thread's stack, are rejected with the values at fault.
// RUN: not rill-opt %s --rill-tile-attention="query-tile=-4" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not rill-opt %s --rill-tile-attention="query-tile=257 key-tile=16" 2>&1 | FileCheck %s --check-prefix=QUERY
// RUN: not rill-opt %s --rill-tile-attention="key-tile=9223372036854775807" 2>&1 | FileCheck %s --check-prefix=KEY
// RUN: not rill-opt %s --rill-tile-attention="vector-width=65" 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: rill-opt %s --rill-tile-attention="query-tile=256 key-tile=4096 vector-width=64" | FileCheck %s --check-prefix=LIMITS

// NEGATIVE: rill-tile-attention: invalid tile (query-tile -4, key-tile 32, vector-width 16); expected query-tile in 1..256, key-tile in 1..4096 and vector-width in 1..64
// QUERY: invalid tile (query-tile 257, key-tile 16, vector-width 16)
// KEY: invalid tile (query-tile 16, key-tile 9223372036854775807, vector-width 16)
// WIDTH: invalid tile (query-tile 16, key-tile 32, vector-width 65)
// LIMITS: func.func @f
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}
