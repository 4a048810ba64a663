// RUN: rill-opt %s --rill-reference-pipeline | FileCheck %s \
// RUN:   --implicit-check-not=rill. --implicit-check-not=linalg. \
// RUN:   --implicit-check-not=tensor. --implicit-check-not=memref. \
// RUN:   --implicit-check-not=math. --implicit-check-not=bufferization. \
// RUN:   --implicit-check-not=scf. --implicit-check-not=cf. \
// RUN:   --implicit-check-not=arith. --implicit-check-not=affine. \
// RUN:   --implicit-check-not=unrealized_conversion_cast

// The reference pipeline leaves only the LLVM dialect: rill ops are
// decomposed, tensors bufferized and freed, loops and math lowered, and
// public functions with llvm.emit_c_interface get C wrappers.

// CHECK-DAG:   llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG:   llvm.func @free(!llvm.ptr)
// CHECK-DAG:   llvm.func @attention(
// CHECK-DAG:   llvm.func @_mlir_ciface_attention(
// CHECK-DAG:   llvm.func @_mlir_ciface_rotary(
// CHECK-DAG:   llvm.intr.tanh
// CHECK-DAG:   llvm.intr.exp
// CHECK-DAG:   llvm.intr.pow
// CHECK-DAG:   llvm.intr.cos
// CHECK-DAG:   llvm.intr.sin
// CHECK-DAG:   llvm.call @free
func.func @attention(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %q_pos: index, %k_pos: index) -> tensor<?x4x?x8xf32> attributes {llvm.emit_c_interface} {
  %out = rill.attention %q, %k, %v at %q_pos, %k_pos
      mask(#rill.union<[#rill.sinks<4>, #rill.window<16>]>) softcap(50.0)
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x4x?x8xf32>
  return %out : tensor<?x4x?x8xf32>
}

func.func @rotary(%x: tensor<1x4x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x4x?x8xf32> attributes {llvm.emit_c_interface} {
  %out = rill.rotary %x at %positions : tensor<1x4x?x8xf32>, tensor<1x?xi64>
  return %out : tensor<1x4x?x8xf32>
}
