// rillc also compiles tensor-level MLIR modules (every public function gets
// a C interface), which is how bench/gemm can compile its kernels.

// RUN: rillc %s --emit=llvm -o - | FileCheck %s
// RUN: rillc %s --emit=obj -o %t.o && test -s %t.o

// CHECK-LABEL: define {{.*}}@gemm(
// CHECK-LABEL: define {{.*}}@_mlir_ciface_gemm(

func.func @gemm(%a: tensor<64x64xf32>, %b: tensor<64x128xf32>, %c: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x128xf32>)
                     outs(%c : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}
