// Checks the C glue that rillc links into a model library: the embedded
// ABI header, the metadata table built from the graph signature, argument
// checks and the call of the compiled function's C interface.

// RUN: rillc %rill_src_root/data/onnx/stories260K_nocache/model.onnx --emit=glue --threads=2 --mask='sinks(4)|window(60)' --policy=sinks -o - | FileCheck %s

// CHECK: #define RILL_MODEL_ABI_VERSION 2
// CHECK: static const int64_t rill_inputs_shape_0[] = {-1, -1};
// CHECK: {"input_ids", 3, 2, rill_inputs_shape_0},
// CHECK: static const int64_t rill_outputs_shape_0[] = {-1, -1, 512};
// CHECK: {"logits", 1, 3, rill_outputs_shape_0},
// CHECK: static const rill_model_metadata rill_metadata = {
// CHECK-NEXT: 2, /* abi_version */
// CHECK-NEXT: "torch_jit",
// CHECK-NEXT: "{{.*}}stories260K_nocache/model.onnx",
// CHECK-NEXT: 0, /* is_streaming */
// CHECK: "sinks(4)|window(60)",
// CHECK-NEXT: "rotary",
// CHECK-NEXT: "sinks",
// CHECK-NEXT: 3, rill_inputs,
// CHECK-NEXT: 1, rill_outputs,
// CHECK-NEXT: 2, /* default_threads */
// CHECK-NEXT: "x86-64-v3",
// CHECK-NEXT: "cpu",
// CHECK: extern void _mlir_ciface_torch_jit(int64_t *, int64_t *, int64_t *, int64_t *);
// CHECK: int32_t rill_model_run(
// CHECK: rill_check_shape("input", rill_inputs[2].name, input_shapes[2], rill_inputs_shape_2, 2)
// CHECK: _mlir_ciface_torch_jit(results, d0, d1, d2);
// CHECK-NOT: rill_model_step
