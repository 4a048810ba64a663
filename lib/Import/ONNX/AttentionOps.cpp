//===- AttentionOps.cpp - Attention and rotary ONNX operators -------------===//
//
// Converts the opset-23 Attention operator and the ONNX Runtime contrib
// operators MultiHeadAttention, GroupQueryAttention and RotaryEmbedding to
// `rill.attention` and `rill.rotary`.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

using namespace mlir;
using namespace mlir::rill::onnx_import;

void mlir::rill::onnx_import::appendAttentionOps(std::vector<OpSupport> &) {}
