# ===- tests/test_import_onnx.py - ONNX importer numerics ------------=== #
"""Numerics tests for the ONNX importer through rill-exec.

Each model under data/onnx runs on the inputs of its golden.npz and must
match the golden outputs to a max abs error below 1e-4. A sample of ONNX
backend node tests (libonnx-testdata) covers the operator families; the
full sweep is `python -m rill.onnx_conformance --node-tests`.
"""

import pathlib

import pytest

from rill import onnx_conformance

DATA_ONNX = onnx_conformance.REPO_ROOT / "data" / "onnx"
MODEL_DIRS = sorted(d.name for d in DATA_ONNX.iterdir()
                    if (d / "golden.npz").is_file()) \
    if DATA_ONNX.is_dir() else []

# One or two backend node tests per operator family.
NODE_SAMPLE = [
    "test_add_bcast",
    "test_matmul_4d",
    "test_gemm_all_attributes",
    "test_softmax_axis_1",
    "test_logsoftmax_axis_0",
    "test_reduce_mean_keepdims_random",
    "test_layer_normalization_4d_axis1",
    "test_gather_negative_indices",
    "test_reshape_zero_and_negative_dim",
    "test_slice_neg_steps",
    "test_split_equal_parts_1d",
    "test_unsqueeze_unsorted_axes",
    "test_expand_dim_changed",
    "test_where_long_example",
    "test_tril",
    "test_range_float_type_positive_delta",
    "test_tile",
    "test_cast_FLOAT_to_FLOAT16",
    "test_erf",
]


def _tools_available() -> bool:
    try:
        onnx_conformance.find_tool("rill-translate")
        onnx_conformance.find_tool("rill-exec")
    except FileNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _tools_available(),
                                reason="rill-translate or rill-exec not built")


@pytest.mark.parametrize("model", MODEL_DIRS)
def test_golden_model(model):
    pytest.importorskip("onnx")
    check = onnx_conformance.check_golden_model(DATA_ONNX / model)
    assert check.passed, check.reason
    assert check.max_error < onnx_conformance.MODEL_ATOL


@pytest.mark.parametrize("model", MODEL_DIRS)
def test_golden_model_cpu_pipeline(model):
    """The same models through rill-cpu-pipeline: tiled attention, the
    matrix-product kernel and vector code instead of scalar loops."""
    pytest.importorskip("onnx")
    check = onnx_conformance.check_golden_model(DATA_ONNX / model, pipeline="cpu")
    assert check.passed, check.reason
    assert check.max_error < onnx_conformance.MODEL_ATOL


@pytest.mark.parametrize("case", NODE_SAMPLE)
def test_backend_node(case):
    pytest.importorskip("onnx")
    case_dir = onnx_conformance.NODE_TEST_ROOT / case
    if not case_dir.is_dir():
        pytest.skip(f"{case_dir} not installed (libonnx-testdata)")
    outcomes = onnx_conformance.run_node_case(case_dir)
    assert outcomes, f"{case} has no test data sets"
    for outcome in outcomes:
        assert outcome.passed, f"{outcome.name}: {outcome.reason}"


def test_unsupported_operator_report(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok"),
             helper.make_node("Unique", ["a"], ["y"], name="unique")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                   [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), str(path))
    result = onnx_conformance.run_model(path, {}, tmp_path, ["y"])
    assert result.outputs is None
    assert result.stage == "import"
    assert "unsupported operators" in result.message
