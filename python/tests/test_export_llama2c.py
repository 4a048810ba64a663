# ===- tests/test_export_llama2c.py - ONNX export of stories260K -------=== #
"""Tests of the stories260K ONNX models in data/onnx and of the exporter that makes them.

The committed models must pass onnx.checker, have Hugging Face optimum's decoder
interface, match the float64 numpy model through PyTorch and through ONNX
Runtime (max abs logit difference < 1e-4), follow other batch, sequence and past
lengths than the ones traced, and equal what the exporter writes today.
"""

from pathlib import Path

import numpy as np
import pytest

from rill import ort
from rill.models.llama2c import BOS, Llama2cModel, load_checkpoint, load_tokenizer, read_text

onnx = pytest.importorskip("onnx")
numpy_helper = pytest.importorskip("onnx.numpy_helper")
torch = pytest.importorskip("torch")

from rill.export import llama2c_onnx, llama2c_torch  # noqa: E402 (needs torch)

DATA = Path(__file__).resolve().parents[2] / "data"
CHECKPOINT = DATA / "checkpoints" / "stories260K.bin"
CACHE_MODEL = DATA / "onnx" / "stories260K" / "model.onnx"
NOCACHE_MODEL = DATA / "onnx" / "stories260K_nocache" / "model.onnx"
TOLERANCE = 1e-4

needs_ort = pytest.mark.skipif(not ort.available(), reason=f"ONNX Runtime unavailable: {ort.unavailable_reason()}")


@pytest.fixture(scope="module")
def checkpoint():
    return load_checkpoint(CHECKPOINT)


@pytest.fixture(scope="module")
def model(checkpoint):
    return Llama2cModel(checkpoint)


@pytest.fixture(scope="module")
def text_tokens():
    tokenizer = load_tokenizer(DATA / "checkpoints" / "tok512.bin")
    text = read_text(DATA / "text" / "tinystories_valid_head.txt")[:5000]
    return np.array(tokenizer.encode(text, bos=False), dtype=np.int64)


def load_golden(model_path):
    with np.load(model_path.parent / "golden.npz") as golden:
        return {name: golden[name] for name in golden.files}


def split_golden(model_path):
    golden = load_golden(model_path)
    graph = onnx.load(str(model_path)).graph
    inputs = {i.name: golden[i.name] for i in graph.input}
    outputs = {o.name: golden[o.name] for o in graph.output}
    return inputs, outputs


def torch_logits(checkpoint, tokens):
    module = llama2c_torch.Llama2cForCausalLM(checkpoint, use_cache=False, max_positions=64).eval()
    ids = torch.from_numpy(np.asarray(tokens, dtype=np.int64))[None, :]
    with torch.no_grad():
        return module(ids, torch.ones_like(ids), torch.arange(ids.shape[1])[None, :]).numpy()[0]


def test_half_split_permutation():
    np.testing.assert_array_equal(llama2c_torch.half_split_permutation(8), [0, 2, 4, 6, 1, 3, 5, 7])


def test_torch_module_matches_numpy(checkpoint, model, text_tokens):
    tokens = np.concatenate([[BOS], text_tokens[:40]])
    difference = np.abs(torch_logits(checkpoint, tokens) - model.forward(tokens)).max()
    assert difference < TOLERANCE


def test_unpermuted_projections_differ(checkpoint, model, text_tokens, monkeypatch):
    # Without the row permutation, half-split RoPE rotates the wrong pairs.
    monkeypatch.setattr(llama2c_torch, "half_split_permutation", lambda head_size: np.arange(head_size))
    tokens = np.concatenate([[BOS], text_tokens[:40]])
    assert np.abs(torch_logits(checkpoint, tokens) - model.forward(tokens)).max() > 0.1


@pytest.mark.parametrize("path", [CACHE_MODEL, NOCACHE_MODEL], ids=["cache", "nocache"])
def test_model_passes_checker(path):
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == llama2c_onnx.OPSET
    assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_cache_model_interface():
    graph = onnx.load(str(CACHE_MODEL)).graph
    inputs = {i.name: i for i in graph.input}
    outputs = {o.name: o for o in graph.output}
    assert [i.name for i in graph.input] == llama2c_onnx.input_names(5, use_cache=True)
    assert [o.name for o in graph.output] == llama2c_onnx.output_names(5, use_cache=True)

    int64 = onnx.TensorProto.INT64
    for name in ("input_ids", "attention_mask", "position_ids"):
        assert inputs[name].type.tensor_type.elem_type == int64, name
    assert dims(inputs["input_ids"]) == ["batch_size", "sequence_length"]
    assert dims(inputs["attention_mask"]) == ["batch_size", "total_sequence_length"]
    assert dims(inputs["past_key_values.0.key"]) == ["batch_size", 4, "past_sequence_length", 8]
    assert dims(outputs["logits"]) == ["batch_size", "sequence_length", 512]
    assert dims(outputs["present.4.value"]) == ["batch_size", 4, "total_sequence_length", 8]


def test_nocache_model_interface():
    graph = onnx.load(str(NOCACHE_MODEL)).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "position_ids"]
    assert [o.name for o in graph.output] == ["logits"]


def test_attention_is_decomposed():
    ops = {node.op_type for node in onnx.load(str(CACHE_MODEL)).graph.node}
    for op in ("MatMul", "Softmax", "Where", "Gather", "Expand", "Reshape", "Range", "LessOrEqual"):
        assert op in ops, op
    assert "Attention" not in ops


def test_rope_tables_are_initializers():
    initializers = {i.name: i for i in onnx.load(str(CACHE_MODEL)).graph.initializer}
    cos = numpy_helper.to_array(initializers["cos_table"])
    assert cos.shape == (llama2c_onnx.DEFAULT_MAX_POSITIONS, 8)
    # Half-split layout: both halves of a row hold the same four angles.
    np.testing.assert_array_equal(cos[:, :4], cos[:, 4:])


@pytest.mark.parametrize("build, path", [
    (llama2c_onnx.golden_with_cache, CACHE_MODEL),
    (llama2c_onnx.golden_without_cache, NOCACHE_MODEL),
], ids=["cache", "nocache"])
def test_golden_matches_numpy(model, text_tokens, build, path):
    expected = build(model, text_tokens)
    golden = load_golden(path)
    assert sorted(golden) == sorted(expected)
    for name, value in expected.items():
        assert golden[name].dtype == value.dtype, name
        np.testing.assert_allclose(golden[name], value, atol=1e-6, err_msg=name)


def test_golden_cache_layout():
    golden = load_golden(CACHE_MODEL)
    assert golden["input_ids"].shape == (2, 5)
    assert golden["past_key_values.0.key"].shape == (2, 4, 7, 8)
    assert golden["present.0.key"].shape == (2, 4, 12, 8)
    np.testing.assert_array_equal(golden["attention_mask"][1, :2], [0, 0])
    np.testing.assert_array_equal(golden["position_ids"], [[7, 8, 9, 10, 11], [5, 6, 7, 8, 9]])


@needs_ort
@pytest.mark.parametrize("path", [CACHE_MODEL, NOCACHE_MODEL], ids=["cache", "nocache"])
def test_ort_matches_golden(path):
    inputs, expected = split_golden(path)
    outputs = ort.run(path, inputs)
    assert sorted(outputs) == sorted(expected)
    for name, value in expected.items():
        assert np.abs(outputs[name] - value).max() < TOLERANCE, name


def cache_inputs(model, tokens, past):
    """Inputs for one unpadded row: `past` cached tokens plus the rest as new tokens."""
    _, layers = llama2c_onnx._cache_tensors(model, tokens)
    inputs = {
        "input_ids": tokens[None, past:].astype(np.int64),
        "attention_mask": np.ones((1, len(tokens)), dtype=np.int64),
        "position_ids": np.arange(past, len(tokens), dtype=np.int64)[None, :],
    }
    for i, (keys, values) in enumerate(layers):
        inputs[f"past_key_values.{i}.key"] = keys[None, :, :past].astype(np.float32)
        inputs[f"past_key_values.{i}.value"] = values[None, :, :past].astype(np.float32)
    return inputs


@needs_ort
@pytest.mark.parametrize("past, total", [(0, 9), (30, 31), (100, 140)])
def test_ort_follows_dynamic_lengths(model, text_tokens, past, total):
    tokens = np.concatenate([[BOS], text_tokens[: total - 1]])
    outputs = ort.run(CACHE_MODEL, cache_inputs(model, tokens, past), output_names=["logits", "present.2.key"])
    expected_logits, layers = llama2c_onnx._cache_tensors(model, tokens)
    assert np.abs(outputs["logits"][0] - expected_logits[past:]).max() < TOLERANCE
    assert np.abs(outputs["present.2.key"][0] - layers[2][0]).max() < TOLERANCE


@needs_ort
def test_ort_nocache_long_sequence(model, text_tokens):
    tokens = np.concatenate([[BOS], text_tokens[:299]])[None, :]
    inputs = {
        "input_ids": tokens,
        "attention_mask": np.ones_like(tokens),
        "position_ids": np.arange(300, dtype=np.int64)[None, :],
    }
    logits = ort.run(NOCACHE_MODEL, inputs)["logits"][0]
    assert np.abs(logits - model.forward(tokens[0])).max() < TOLERANCE


@pytest.mark.parametrize("use_cache, path", [(True, CACHE_MODEL), (False, NOCACHE_MODEL)], ids=["cache", "nocache"])
def test_export_reproduces_committed_model(checkpoint, tmp_path, use_cache, path):
    producer = onnx.load(str(path)).producer_version
    if not torch.__version__.startswith(producer):
        pytest.skip(f"committed model was exported by torch {producer}, this is torch {torch.__version__}")
    fresh = tmp_path / "model.onnx"
    llama2c_onnx.export_onnx(checkpoint, fresh, use_cache)
    assert fresh.read_bytes() == path.read_bytes()
