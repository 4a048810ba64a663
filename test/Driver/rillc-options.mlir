// Checks rillc's command line: emission to stdout, the artifact chosen by
// the output extension, and error messages that name the option at fault.
// The input is an ONNX model from data/onnx; this file is only the test.

// RUN: rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --emit=mlir -o - | FileCheck %s --check-prefix=MLIR
// MLIR: func.func @{{.*}}(%{{.*}}: tensor<?x?x64xf32> {rill.name = "x"}
// MLIR: rill.attention

// RUN: not rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --mask 'window(' -o %t.so 2>&1 | FileCheck %s --check-prefix=MASK
// MASK: rillc: error: --mask: invalid mask pattern 'window('

// RUN: not rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --policy=lru -o %t.so 2>&1 | FileCheck %s --check-prefix=POLICY
// POLICY: rillc: error: invalid --policy 'lru' (expected dense, window, recompute or sinks)

// RUN: not rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --position-policy=learned -o %t.so 2>&1 | FileCheck %s --check-prefix=POSITION
// POSITION: rillc: error: invalid --position-policy 'learned' (expected rotary, clamped-absolute or original)

// RUN: not rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --cpu-options='key-tile=32 tile-size=4' -o %t.so 2>&1 | FileCheck %s --check-prefix=CPUOPTIONS
// CPUOPTIONS: rillc: error: invalid --cpu-options 'key-tile=32 tile-size=4': {{.*}}tile-size{{.*}}; see `rill-opt --help` under --rill-cpu-pipeline for the option names

// RUN: not rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --pipeline=reference --cpu-options=openmp=false -o %t.so 2>&1 | FileCheck %s --check-prefix=CPUREFERENCE
// CPUREFERENCE: rillc: error: --cpu-options applies to --pipeline=cpu only

// A tuned build is still a working library.
// RUN: rillc %rill_src_root/data/onnx/gqa_tiny/model.onnx --cpu-options='key-tile=16 matmul-pack-weights=false fuse-elementwise=true' --emit=llvm -o - | FileCheck %s --check-prefix=TUNED
// TUNED: define {{.*}}@

// RUN: not rillc %t.does-not-exist.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: rillc: error: cannot open '{{.*}}does-not-exist.onnx': no such file; pass the path of an .onnx model

// RUN: not rillc 2>&1 | FileCheck %s --check-prefix=NOINPUT
// NOINPUT: rillc: error: no input file; usage: rillc model.onnx -o model.so

// RUN: rillc --help | FileCheck %s --check-prefix=HELP
// HELP: --cpu-options=<options>
// HELP: --emit=<kind>
// HELP: --mask=<pattern>
// HELP: --max-capacity=<slots>
// HELP: --pipeline=<name>
// HELP: --policy=<name>
// HELP: --position-policy=<name>
// HELP: --threads=<count>
