// Import errors: every unsupported operator is listed at once, and broken
// files, undefined names, type and shape mismatches, unranked inputs and
// short tensor data fail with a message and a non-zero exit code.

// RUN: /usr/bin/python3 %S/Inputs/make_models.py unsupported %t.1.onnx
// RUN: not rill-translate --import-onnx %t.1.onnx 2>&1 | FileCheck %s --check-prefix=OPS-LIST
// RUN: /usr/bin/python3 %S/Inputs/make_models.py truncated %t.2.onnx
// RUN: not rill-translate --import-onnx %t.2.onnx 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: /usr/bin/python3 %S/Inputs/make_models.py not_onnx %t.3.onnx
// RUN: not rill-translate --import-onnx %t.3.onnx 2>&1 | FileCheck %s --check-prefix=NOT-ONNX
// RUN: not rill-translate --import-onnx %t.does-not-exist.onnx 2>&1 | FileCheck %s --check-prefix=NO-FILE
// RUN: /usr/bin/python3 %S/Inputs/make_models.py undefined_input %t.4.onnx
// RUN: not rill-translate --import-onnx %t.4.onnx 2>&1 | FileCheck %s --check-prefix=UNDEFINED
// RUN: /usr/bin/python3 %S/Inputs/make_models.py type_mismatch %t.5.onnx
// RUN: not rill-translate --import-onnx %t.5.onnx 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: /usr/bin/python3 %S/Inputs/make_models.py shape_mismatch %t.6.onnx
// RUN: not rill-translate --import-onnx %t.6.onnx 2>&1 | FileCheck %s --check-prefix=BROADCAST
// RUN: /usr/bin/python3 %S/Inputs/make_models.py declared_mismatch %t.7.onnx
// RUN: not rill-translate --import-onnx %t.7.onnx 2>&1 | FileCheck %s --check-prefix=DECLARED
// RUN: /usr/bin/python3 %S/Inputs/make_models.py unranked_input %t.8.onnx
// RUN: not rill-translate --import-onnx %t.8.onnx 2>&1 | FileCheck %s --check-prefix=UNRANKED
// RUN: /usr/bin/python3 %S/Inputs/make_models.py short_initializer %t.9.onnx
// RUN: not rill-translate --import-onnx %t.9.onnx 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not rill-translate %t.9.onnx 2>&1 | FileCheck %s --check-prefix=NO-MODE

// OPS-LIST: error: model uses 3 node(s) with unsupported operators:
// OPS-LIST-NEXT: domain 'ai.onnx', op 'NonMaxSuppression', opset 17, node 'nms' (NonMaxSuppression)
// OPS-LIST-NEXT: domain 'com.example', op 'FancyOp', opset 3, node 'fancy' (FancyOp)
// OPS-LIST-NEXT: domain 'ai.onnx', op 'Loop', opset 17, node #3 (unnamed) (Loop)

// TRUNCATED: error: cannot parse '{{.*}}' as an ONNX ModelProto; the file is truncated or not an ONNX model
// NOT-ONNX: error: cannot parse '{{.*}}' as an ONNX ModelProto; the file is truncated or not an ONNX model
// NO-FILE: error: cannot open ONNX model '{{.*}}does-not-exist.onnx': No such file or directory
// UNDEFINED: error: node 'add' (Add): input 'nowhere' is not defined by any graph input, initializer or earlier node
// TYPE: error: node 'mixed_add' (Add): input types differ ('tensor<4xf32>' vs 'tensor<4xi64>')
// BROADCAST: error: node 'bad_add' (Add): incompatible broadcast sizes 3 and 5 in dimension 1 of the result
// DECLARED: error: graph output 'y' is declared with size 7 in dimension 1 but the graph computes tensor<4x3xf32> (inconsistent shapes)
// UNRANKED: error: graph input 'x' has no shape; the importer needs the rank of every graph input
// SHORT: error: tensor 'w' of type tensor<8xf32> needs 32 bytes of data but has 10
// SHORT-NOT: error
// NO-MODE: no translation selected; pass --import-onnx
