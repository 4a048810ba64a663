// Imports the ONNX test models and fuses them: every attention layer of
// stories260K (with and without a KV cache), GPT-2 and BERT becomes one
// rill.attention, and every RoPE application of stories260K (queries and
// keys of 5 layers) one rill.rotary. The padding masks stay biases, each
// with a remark on stderr, so stderr is not checked here.

// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/stories260K/model.onnx | rill-opt --rill-fuse-attention 2>/dev/null > %t.cache.mlir
// RUN: FileCheck %s --check-prefix=ATTN < %t.cache.mlir
// RUN: FileCheck %s --check-prefix=ROPE < %t.cache.mlir
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/stories260K_nocache/model.onnx | rill-opt --rill-fuse-attention 2>/dev/null > %t.nocache.mlir
// RUN: FileCheck %s --check-prefix=ATTN < %t.nocache.mlir
// RUN: FileCheck %s --check-prefix=ROPE < %t.nocache.mlir
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/gpt2_tiny/model.onnx | rill-opt --rill-fuse-attention 2>/dev/null | FileCheck %s --check-prefix=GPT2
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/bert_tiny/model.onnx | rill-opt --rill-fuse-attention 2>/dev/null | FileCheck %s --check-prefix=BERT

// ATTN-NOT: math.exp
// ATTN-COUNT-5: rill.attention {{.*}} mask(#rill.causal) {{.*}} bias(
// ATTN-NOT: rill.attention

// ROPE-COUNT-10: rill.rotary {{.*}} tables(
// ROPE-NOT: rill.rotary

// GPT2-COUNT-2: rill.attention {{.*}} mask(#rill.causal) {{.*}} bias(
// GPT2-NOT: rill.attention

// BERT-COUNT-2: rill.attention {{.*}} mask(#rill.full) {{.*}} bias(
// BERT-NOT: rill.attention
