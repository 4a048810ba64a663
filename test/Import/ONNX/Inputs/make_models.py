"""Build the small ONNX models that the importer's lit tests import.

Usage: /usr/bin/python3 make_models.py NAME OUTPUT.onnx

Each NAME builds one model with onnx.helper (Debian's python3-onnx 1.12),
including deliberately broken ones for the error tests. Models are built
at test time so that no binary files live in the repository.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def vi(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def const_i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inputs, outputs, inits=(), opset=17, extra_opsets=(),
          name="test_graph"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = 8
    return m


def build_elementwise():
    nodes = [
        helper.make_node("Add", ["x", "b"], ["add"], name="add"),
        helper.make_node("Gelu", ["add"], ["gelu"], name="gelu",
                         approximate="tanh"),
        helper.make_node("Greater", ["gelu", "zero"], ["gt"], name="gt"),
        helper.make_node("Where", ["gt", "gelu", "zero"], ["w"],
                         name="where"),
        helper.make_node("Cast", ["w"], ["y"], name="cast", to=I64),
    ]
    inits = [numpy_helper.from_array(np.ones(4, np.float32), "b"),
             numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    return model(nodes, [vi("x", F, ["batch", 4])], [vi("y", I64, None)],
                 inits, opset=20)


def build_matmul():
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"], name="matmul"),
        helper.make_node("Gemm", ["a", "b"], ["gemm"], name="gemm",
                         transB=1, alpha=2.0),
    ]
    inits = [numpy_helper.from_array(np.ones((4, 5), np.float32), "w")]
    return model(nodes, [vi("x", F, [2, "seq", 3, 4]), vi("a", F, [3, 4]),
                         vi("b", F, [6, 4])],
                 [vi("mm", F, None), vi("gemm", F, None)], inits)


def build_shape_fold():
    # x [batch, seq, 8] -> Reshape to [batch, seq, 2, 4] through a shape
    # subgraph, then back with [0, 0, -1].
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "i0"], ["d0"], name="gather0",
                         axis=0),
        helper.make_node("Gather", ["s", "i1"], ["d1"], name="gather1",
                         axis=0),
        helper.make_node("Unsqueeze", ["d0", "axes0"], ["u0"], name="u0"),
        helper.make_node("Unsqueeze", ["d1", "axes0"], ["u1"], name="u1"),
        helper.make_node("Concat", ["u0", "u1", "tail"], ["shape4"],
                         name="concat", axis=0),
        helper.make_node("Reshape", ["x", "shape4"], ["r4"], name="reshape4"),
        helper.make_node("Reshape", ["r4", "back"], ["y"], name="reshape3"),
    ]
    inits = [const_i64("i0", 0), const_i64("i1", 1), const_i64("axes0", [0]),
             const_i64("tail", [2, 4]), const_i64("back", [0, 0, -1])]
    return model(nodes, [vi("x", F, ["batch", "seq", 8])],
                 [vi("y", F, ["batch", "seq", 8])], inits)


def build_slice_split():
    nodes = [
        helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"],
                         ["sl"], name="slice"),
        helper.make_node("Slice", ["x", "rstarts", "rends", "raxes",
                                   "rsteps"], ["rev"], name="reverse"),
        helper.make_node("Split", ["x"], ["p0", "p1", "p2"], name="split",
                         axis=1, num_outputs=3),
        helper.make_node("Squeeze", ["x1", "sq_axes"], ["sq"], name="squeeze"),
    ]
    inits = [const_i64("starts", [-3]), const_i64("ends", [2**63 - 1]),
             const_i64("axes", [1]), const_i64("steps", [1]),
             const_i64("rstarts", [-1]), const_i64("rends", [-(2**63)]),
             const_i64("raxes", [1]), const_i64("rsteps", [-2]),
             const_i64("sq_axes", [1])]
    return model(nodes, [vi("x", F, [2, 8]), vi("x1", F, ["n", 1, 5])],
                 [vi("sl", F, None), vi("rev", F, None), vi("p0", F, None),
                  vi("p1", F, None), vi("p2", F, None), vi("sq", F, None)],
                 inits, opset=18)


def build_reductions():
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["mean"], name="mean",
                         keepdims=0),
        helper.make_node("Softmax", ["x"], ["sm"], name="softmax"),
        helper.make_node("LayerNormalization", ["x", "scale", "bias"],
                         ["ln"], name="layernorm", axis=-1, epsilon=1e-5),
    ]
    inits = [const_i64("axes", [-1]),
             numpy_helper.from_array(np.ones(8, np.float32), "scale"),
             numpy_helper.from_array(np.zeros(8, np.float32), "bias")]
    return model(nodes, [vi("x", F, ["batch", 4, 8])],
                 [vi("mean", F, None), vi("sm", F, None), vi("ln", F, None)],
                 inits, opset=18)


def build_softmax11():
    nodes = [helper.make_node("Softmax", ["x"], ["y"], name="softmax",
                              axis=1)]
    return model(nodes, [vi("x", F, [2, 3, 4])], [vi("y", F, None)],
                 opset=11)


def build_attention23():
    nodes = [helper.make_node(
        "Attention", ["q", "k", "v", "", "past_k", "past_v"],
        ["y", "present_k", "present_v"], name="attention", is_causal=1,
        scale=0.25, softcap=30.0)]
    return model(nodes,
                 [vi("q", F, ["b", 4, "s", 8]), vi("k", F, ["b", 2, "s", 8]),
                  vi("v", F, ["b", 2, "s", 8]),
                  vi("past_k", F, ["b", 2, "p", 8]),
                  vi("past_v", F, ["b", 2, "p", 8])],
                 [vi("y", F, None), vi("present_k", F, None),
                  vi("present_v", F, None)], opset=23)


def build_attention23_3d_mask():
    nodes = [helper.make_node(
        "Attention", ["q", "k", "v", "mask"], ["y"], name="attention",
        q_num_heads=4, kv_num_heads=2)]
    return model(nodes,
                 [vi("q", F, ["b", "s", 32]), vi("k", F, ["b", "t", 16]),
                  vi("v", F, ["b", "t", 16]),
                  vi("mask", TensorProto.BOOL, ["s", "t"])],
                 [vi("y", F, None)], opset=23)


def build_gqa_window():
    nodes = [helper.make_node(
        "GroupQueryAttention",
        ["q", "k", "v", "past_k", "past_v", "seqlens_k", "total_len", "cos",
         "sin"],
        ["y", "present_k", "present_v"], name="gqa", domain="com.microsoft",
        num_heads=4, kv_num_heads=2, local_window_size=16, do_rotary=1)]
    inits = [numpy_helper.from_array(np.ones((64, 4), np.float32), "cos"),
             numpy_helper.from_array(np.zeros((64, 4), np.float32), "sin")]
    return model(nodes,
                 [vi("q", F, [1, "s", 32]), vi("k", F, [1, "s", 16]),
                  vi("v", F, [1, "s", 16]),
                  vi("past_k", F, [1, 2, "p", 8]),
                  vi("past_v", F, [1, 2, "p", 8]),
                  vi("seqlens_k", TensorProto.INT32, [1]),
                  vi("total_len", TensorProto.INT32, [])],
                 [vi("y", F, None), vi("present_k", F, None),
                  vi("present_v", F, None)], inits,
                 extra_opsets=[("com.microsoft", 1)])


def build_gqa_packed_bias():
    nodes = [helper.make_node(
        "GroupQueryAttention",
        ["qkv", "", "", "past_k", "past_v", "seqlens_k", "total_len"],
        ["y", "present_k", "present_v"], name="gqa", domain="com.microsoft",
        num_heads=4, kv_num_heads=2, softcap=5.0)]
    return model(nodes,
                 [vi("qkv", F, [2, "s", 64]),
                  vi("past_k", F, [2, 2, "p", 8]),
                  vi("past_v", F, [2, 2, "p", 8]),
                  vi("seqlens_k", TensorProto.INT32, [2]),
                  vi("total_len", TensorProto.INT32, [])],
                 [vi("y", F, None), vi("present_k", F, None),
                  vi("present_v", F, None)],
                 extra_opsets=[("com.microsoft", 1)])


def build_gqa_unsupported():
    nodes = [helper.make_node(
        "GroupQueryAttention",
        ["q", "k", "v", "", "", "seqlens_k", "total_len", "", "", "pos"],
        ["y"], name="gqa_pos", domain="com.microsoft", num_heads=2,
        kv_num_heads=2)]
    return model(nodes,
                 [vi("q", F, [1, 3, 16]), vi("k", F, [1, 3, 16]),
                  vi("v", F, [1, 3, 16]),
                  vi("seqlens_k", TensorProto.INT32, [1]),
                  vi("total_len", TensorProto.INT32, []),
                  vi("pos", I64, [1, 3])],
                 [vi("y", F, None)], extra_opsets=[("com.microsoft", 1)])


def build_rotary():
    nodes = [
        helper.make_node("RotaryEmbedding", ["x", "pos", "cos", "sin"],
                         ["y"], name="rope", domain="com.microsoft",
                         interleaved=1, num_heads=2),
        helper.make_node("MultiHeadAttention", ["y", "y", "y"], ["o"],
                         name="mha", domain="com.microsoft", num_heads=2,
                         unidirectional=1),
    ]
    inits = [numpy_helper.from_array(np.ones((32, 4), np.float32), "cos"),
             numpy_helper.from_array(np.zeros((32, 4), np.float32), "sin")]
    return model(nodes, [vi("x", F, ["b", "s", 16]), vi("pos", I64,
                                                        ["b", "s"])],
                 [vi("o", F, None)], inits,
                 extra_opsets=[("com.microsoft", 1)])


def build_weights():
    inits = [numpy_helper.from_array(
        np.arange(256 * 4, dtype=np.float32).reshape(256, 4), "big.weight"),
        numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "small")]
    nodes = [helper.make_node("Gather", ["big.weight", "ids"], ["emb"],
                              name="embed"),
             helper.make_node("Mul", ["emb", "half"], ["y"], name="scale")]
    inits.append(numpy_helper.from_array(np.full(4, 0.5, np.float32),
                                         "half"))
    return model(nodes, [vi("ids", I64, ["b", "s"])], [vi("y", F, None)],
                 inits)


def _external(location, offset=0):
    """Returns a model whose initializer 'w' (64 floats) names external
    data at `location`."""
    w = TensorProto()
    w.name = "w"
    w.data_type = F
    w.dims.extend([64])
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(64 * 4))):
        entry = w.external_data.add()
        entry.key = key
        entry.value = value
    nodes = [helper.make_node("Add", ["x", "w"], ["y"], name="add")]
    return model(nodes, [vi("x", F, [64])], [vi("y", F, [64])], [w])


def build_external_ok(path):
    folder = os.path.dirname(os.path.abspath(path))
    data = np.arange(80, dtype=np.float32)
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(data.tobytes())
    return _external("weights.bin", offset=16 * 4)


def build_external_absolute():
    return _external("/etc/rill-weights.bin")


def build_external_escape():
    return _external("../../outside/weights.bin")


def build_external_missing():
    return _external("no-such-file.bin")


def build_unsupported():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok"),
        helper.make_node("NonMaxSuppression", ["a"], ["b"], name="nms"),
        helper.make_node("FancyOp", ["b"], ["c"], name="fancy",
                         domain="com.example"),
        helper.make_node("Loop", ["c"], ["y"], name=""),
    ]
    return model(nodes, [vi("x", F, [4])], [vi("y", F, [4])],
                 extra_opsets=[("com.example", 3)])


def build_undefined_input():
    nodes = [helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]
    return model(nodes, [vi("x", F, [4])], [vi("y", F, [4])])


def build_type_mismatch():
    nodes = [helper.make_node("Add", ["x", "i"], ["y"], name="mixed_add")]
    return model(nodes, [vi("x", F, [4]), vi("i", I64, [4])],
                 [vi("y", F, [4])])


def build_shape_mismatch():
    nodes = [helper.make_node("Add", ["x", "z"], ["y"], name="bad_add")]
    return model(nodes, [vi("x", F, [4, 3]), vi("z", F, [5])],
                 [vi("y", F, [4, 3])])


def build_declared_mismatch():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return model(nodes, [vi("x", F, [4, 3])], [vi("y", F, [4, 7])])


def build_unranked_input():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return model(nodes, [vi("x", F, None)], [vi("y", F, None)])


def build_short_initializer():
    w = numpy_helper.from_array(np.ones(8, np.float32), "w")
    w.raw_data = w.raw_data[:10]
    nodes = [helper.make_node("Add", ["x", "w"], ["y"], name="add")]
    return model(nodes, [vi("x", F, [8])], [vi("y", F, [8])], [w])


BUILDERS = {
    "elementwise": build_elementwise,
    "matmul": build_matmul,
    "shape_fold": build_shape_fold,
    "slice_split": build_slice_split,
    "reductions": build_reductions,
    "softmax11": build_softmax11,
    "attention23": build_attention23,
    "attention23_3d_mask": build_attention23_3d_mask,
    "gqa_window": build_gqa_window,
    "gqa_packed_bias": build_gqa_packed_bias,
    "gqa_unsupported": build_gqa_unsupported,
    "rotary": build_rotary,
    "weights": build_weights,
    "external_absolute": build_external_absolute,
    "external_escape": build_external_escape,
    "external_missing": build_external_missing,
    "unsupported": build_unsupported,
    "undefined_input": build_undefined_input,
    "type_mismatch": build_type_mismatch,
    "shape_mismatch": build_shape_mismatch,
    "declared_mismatch": build_declared_mismatch,
    "unranked_input": build_unranked_input,
    "short_initializer": build_short_initializer,
}


def main():
    name, path = sys.argv[1], sys.argv[2]
    if name == "external_ok":
        m = build_external_ok(path)
    elif name == "truncated":
        data = build_matmul().SerializeToString()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        return
    elif name == "not_onnx":
        with open(path, "w") as f:
            f.write("this is a text file, not a protobuf\n" * 4)
        return
    else:
        m = BUILDERS[name]()
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
