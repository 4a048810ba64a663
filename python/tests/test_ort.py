# ===- tests/test_ort.py - ONNX Runtime driver tests -------------------=== #
"""Tests for rill.ort, the ONNX Runtime reference driven through Node.js.

Each test builds a tiny model with onnx.helper, runs it through `rill.ort.run`
and compares the outputs with numpy, or checks that a bad request fails with a
message naming the input at fault. The tests skip when node or the
onnxruntime-node package is missing.
"""

import numpy as np
import pytest
from onnx import TensorProto, helper

from rill import ort

pytestmark = pytest.mark.skipif(not ort.available(), reason=str(ort.unavailable_reason()))


def make_add_matmul_model():
    """Build Y = (A + B) @ W with A, B of shape [2, 3] and W of shape [3, 4]."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["A", "B"], ["S"]),
            helper.make_node("MatMul", ["S", "W"], ["Y"]),
        ],
        "add_matmul",
        [
            helper.make_tensor_value_info("A", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("B", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("W", TensorProto.FLOAT, [3, 4]),
        ],
        [
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4]),
            helper.make_tensor_value_info("S", TensorProto.FLOAT, [2, 3]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 17)])
    model.ir_version = 8
    return model


def make_identity_model(elem_type, dtype_name):
    """Build a model that passes one input of the given element type through Identity."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["X"], ["Y"])],
        f"identity_{dtype_name}",
        [helper.make_tensor_value_info("X", elem_type, ["n", 3])],
        [helper.make_tensor_value_info("Y", elem_type, ["n", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 17)])
    model.ir_version = 8
    return model


def add_matmul_inputs():
    rng = np.random.default_rng(0)
    return {
        "A": rng.standard_normal((2, 3), dtype=np.float32),
        "B": rng.standard_normal((2, 3), dtype=np.float32),
        "W": rng.standard_normal((3, 4), dtype=np.float32),
    }


def test_add_matmul_matches_numpy(tmp_path):
    model_file = tmp_path / "add_matmul.onnx"
    model_file.write_bytes(make_add_matmul_model().SerializeToString())
    inputs = add_matmul_inputs()

    outputs = ort.run(model_file, inputs)

    assert list(outputs) == ["Y", "S"]
    assert outputs["Y"].dtype == np.float32
    assert outputs["Y"].shape == (2, 4)
    np.testing.assert_allclose(outputs["Y"], (inputs["A"] + inputs["B"]) @ inputs["W"],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(outputs["S"], inputs["A"] + inputs["B"])


def test_model_proto_and_selected_output():
    inputs = add_matmul_inputs()

    outputs = ort.run(make_add_matmul_model(), inputs, output_names=["S"], threads=2)

    assert list(outputs) == ["S"]
    np.testing.assert_array_equal(outputs["S"], inputs["A"] + inputs["B"])


@pytest.mark.parametrize("elem_type,dtype", [
    (TensorProto.FLOAT, np.float32),
    (TensorProto.FLOAT16, np.float16),
    (TensorProto.INT64, np.int64),
    (TensorProto.INT32, np.int32),
    (TensorProto.BOOL, np.bool_),
    (TensorProto.UINT8, np.uint8),
])
def test_dtype_round_trip(elem_type, dtype):
    values = np.array([[1.5, -2.0, 0.0], [3.25, 65504.0, -7.0]])
    if dtype == np.bool_:
        array = values != 0
    elif dtype == np.uint8:
        array = np.abs(values).astype(np.uint8)
    elif dtype in (np.int64, np.int32):
        array = values.astype(dtype) * (2**30 if dtype == np.int64 else 1)
    else:
        array = values.astype(dtype)

    outputs = ort.run(make_identity_model(elem_type, np.dtype(dtype).name), {"X": array})

    assert outputs["Y"].dtype == array.dtype
    np.testing.assert_array_equal(outputs["Y"], array)


def test_empty_tensor_round_trip():
    array = np.zeros((0, 3), dtype=np.float32)

    outputs = ort.run(make_identity_model(TensorProto.FLOAT, "float32"), {"X": array})

    assert outputs["Y"].shape == (0, 3)


def test_bad_input_name_names_input():
    inputs = add_matmul_inputs()
    inputs["Bogus"] = inputs.pop("B")

    with pytest.raises(RuntimeError) as raised:
        ort.run(make_add_matmul_model(), inputs)

    message = str(raised.value)
    assert "'Bogus' is not an input" in message
    assert "inputs.json" in message
    assert "model inputs: A, B, W" in message


def test_missing_input_names_input():
    inputs = add_matmul_inputs()
    del inputs["W"]

    with pytest.raises(RuntimeError, match="missing model inputs 'W'"):
        ort.run(make_add_matmul_model(), inputs)


def test_wrong_shape_reports_ort_error():
    inputs = add_matmul_inputs()
    inputs["W"] = np.ones((5, 4), dtype=np.float32)

    with pytest.raises(RuntimeError, match="failed to run"):
        ort.run(make_add_matmul_model(), inputs)


def test_unknown_output_name_rejected():
    with pytest.raises(RuntimeError, match="'Z' is not an output"):
        ort.run(make_add_matmul_model(), add_matmul_inputs(), output_names=["Z"])


def test_unsupported_dtype_rejected():
    inputs = add_matmul_inputs()
    inputs["A"] = inputs["A"].astype(np.float64)

    with pytest.raises(TypeError, match="input 'A' has unsupported dtype float64"):
        ort.run(make_add_matmul_model(), inputs)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="ONNX model not found"):
        ort.run(tmp_path / "absent.onnx", add_matmul_inputs())


def test_invalid_model_reports_load_error():
    with pytest.raises(RuntimeError, match="failed to load"):
        ort.run(b"not a model", add_matmul_inputs())


def test_ort_dir_override_reports_missing_package(tmp_path, monkeypatch):
    monkeypatch.setenv("RILL_ORT_DIR", str(tmp_path))

    assert not ort.available()
    assert "onnxruntime-node not found" in ort.unavailable_reason()
    with pytest.raises(RuntimeError, match="not available"):
        ort.run(make_add_matmul_model(), add_matmul_inputs())
