// The models under data/onnx import without errors; the checks pin the
// entry signatures (dynamic batch, sequence and past lengths stay `?`).

// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/stories260K/model.onnx | FileCheck %s --check-prefix=STORIES
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/stories260K_nocache/model.onnx | FileCheck %s --check-prefix=NOCACHE
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/gpt2_tiny/model.onnx | FileCheck %s --check-prefix=GPT2
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/bert_tiny/model.onnx | FileCheck %s --check-prefix=BERT
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/attention23_tiny/model.onnx | FileCheck %s --check-prefix=ATT23
// RUN: rill-translate --import-onnx %rill_src_root/data/onnx/gqa_tiny/model.onnx | FileCheck %s --check-prefix=GQA

// STORIES: func.func @{{.+}}(%arg0: tensor<?x?xi64> {rill.name = "input_ids"}
// STORIES-SAME: %arg3: tensor<?x4x?x8xf32> {rill.name = "past_key_values.0.key"}
// STORIES-SAME: -> (tensor<?x?x512xf32> {rill.name = "logits"}, tensor<?x4x?x8xf32> {rill.name = "present.0.key"}
// NOCACHE: func.func @{{.+}}(%arg0: tensor<?x?xi64> {rill.name = "input_ids"}
// NOCACHE-SAME: -> (tensor<?x?x512xf32> {rill.name = "logits"})
// GPT2: func.func @{{.+}}(%arg0: tensor<?x?xi64> {rill.name = "input_ids"}
// GPT2-SAME: -> (tensor<?x?x64xf32> {rill.name = "logits"}
// BERT: func.func @{{.+}}(%arg0: tensor<?x?xi64> {rill.name = "input_ids"}
// BERT-SAME: -> (tensor<?x?x32xf32> {rill.name = "last_hidden_state"})
// ATT23: rill.attention {{.*}} mask(#rill.causal) scale(3.000000e-01)
// GQA: rill.rotary
// GQA: rill.attention {{.*}} mask(#rill.full) softcap(2.000000e+00) bias(
