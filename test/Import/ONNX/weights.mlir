// Weights: initializers above --max-dense-elements become dense_resource
// blobs, small ones dense attributes. External data is read relative to
// the model's folder, and absolute or escaping paths and missing files are
// rejected with the tensor name and the path.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py weights %t.onnx
// RUN: rill-translate --import-onnx %t.onnx | FileCheck %s
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: /usr/bin/python3 %S/Inputs/make_models.py external_ok %t.dir/model.onnx
// RUN: rill-translate --import-onnx %t.dir/model.onnx | FileCheck %s --check-prefix=EXTERNAL
// RUN: rill-translate --import-onnx %t.dir/model.onnx --max-dense-elements=0 | FileCheck %s --check-prefix=EXTERNAL-BLOB
// RUN: /usr/bin/python3 %S/Inputs/make_models.py external_absolute %t.abs.onnx
// RUN: not rill-translate --import-onnx %t.abs.onnx 2>&1 | FileCheck %s --check-prefix=ABSOLUTE
// RUN: /usr/bin/python3 %S/Inputs/make_models.py external_escape %t.esc.onnx
// RUN: not rill-translate --import-onnx %t.esc.onnx 2>&1 | FileCheck %s --check-prefix=ESCAPE
// RUN: /usr/bin/python3 %S/Inputs/make_models.py external_missing %t.miss.onnx
// RUN: not rill-translate --import-onnx %t.miss.onnx 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK-LABEL: func.func @test_graph(
// CHECK: arith.constant dense_resource<big.weight> : tensor<256x4xf32>
// CHECK: arith.constant dense<5.000000e-01> : tensor<4xf32>
// CHECK: dialect_resources
// CHECK-NEXT: builtin: {
// CHECK-NEXT: big.weight: "0x04000000000000000000803F00000040

// EXTERNAL: arith.constant dense<[1.600000e+01, 1.700000e+01, 1.800000e+01
// EXTERNAL-BLOB: arith.constant dense_resource<w> : tensor<64xf32>
// EXTERNAL-BLOB: w: "0x0400000000008041

// ABSOLUTE: error: tensor 'w' has external data at absolute path '/etc/rill-weights.bin'; external data must be a relative path inside the model's folder
// ABSOLUTE-NOT: error
// ESCAPE: error: tensor 'w' has external data path '../../outside/weights.bin' that leaves the model's folder
// MISSING: error: tensor 'w': cannot read external data file '{{.*}}no-such-file.bin'
