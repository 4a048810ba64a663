# ===- rill/export/small_models.py - Write the tiny ONNX test models ----=== #
"""Write the four tiny ONNX models under data/onnx/ together with their golden data.

Each model goes to data/onnx/<name>/model.onnx with golden.npz beside it. The
npz holds one array per graph input and per graph output, under the graph's
own names. Golden outputs come from an independent path, never from ONNX
Runtime: torch eager for gpt2_tiny and bert_tiny, and the float64 numpy
semantics of rill.models.small (cast to float32) for attention23_tiny and
gqa_tiny. Weights and inputs are drawn from fixed seeds, so rerunning
`python3 -m rill.export.small_models [OUTPUT_DIR]` rewrites the same models;
torch.onnx's output may still differ byte for byte across torch versions.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Callable, Dict, Tuple

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from rill.models import small

DEFAULT_OUTPUT_DIR = Path(__file__).resolve().parents[3] / "data" / "onnx"
TORCH_OPSET = 17

# Shapes of the golden inputs: a chunk of new tokens after a non-empty cache,
# so that both the past and the causal offset take part.
GOLDEN_BATCH = 2
GOLDEN_PAST = 5
GOLDEN_SEQUENCE = 3

# Model sizes for the two attention-operator graphs.
ATTENTION_HIDDEN = 32
ATTENTION_Q_HEADS = 4
ATTENTION_KV_HEADS = 2
ATTENTION_HEAD_DIM = 8
ATTENTION23_SCALE = 0.3

# ONNX Runtime 1.30's CPU GroupQueryAttention with do_rotary=1 rejects head
# sizes that are not a multiple of 16, so gqa_tiny uses wider heads.
GQA_HIDDEN = 64
GQA_HEAD_DIM = 16
GQA_WINDOW = 4
GQA_SOFTCAP = 2.0
GQA_MAX_POSITIONS = 32
GQA_PAST_BUFFER = 9

Golden = Dict[str, np.ndarray]


def _finish_model(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    model.producer_name = "rill.export.small_models"
    model.graph.name = name
    return model


# ---------------------------------------------------------------------------
# gpt2_tiny and bert_tiny: torch modules exported with torch.onnx
# ---------------------------------------------------------------------------

def gpt2_input_names(num_layers: int):
    names = ["input_ids", "attention_mask", "position_ids"]
    for layer in range(num_layers):
        names += [f"past_key_values.{layer}.key", f"past_key_values.{layer}.value"]
    return names


def gpt2_output_names(num_layers: int):
    names = ["logits"]
    for layer in range(num_layers):
        names += [f"present.{layer}.key", f"present.{layer}.value"]
    return names


def gpt2_golden_inputs(config: small.GPT2TinyConfig, past: int = GOLDEN_PAST,
                       sequence: int = GOLDEN_SEQUENCE, seed: int = 1) -> Golden:
    """Draw decoder-with-past inputs; batch row 1 has two left-padding tokens in its past."""
    rng = np.random.default_rng(seed)
    head_dim = config.hidden_size // config.num_heads
    attention_mask = np.ones((GOLDEN_BATCH, past + sequence), dtype=np.int64)
    attention_mask[1, :min(2, past)] = 0

    # Positions count only real tokens, as Hugging Face's generate() derives them.
    position_ids = (np.cumsum(attention_mask, axis=1) - 1)[:, past:]
    position_ids = np.maximum(position_ids, 0)

    inputs = {
        "input_ids": rng.integers(0, config.vocab_size, (GOLDEN_BATCH, sequence), dtype=np.int64),
        "attention_mask": attention_mask,
        "position_ids": position_ids.astype(np.int64),
    }
    for layer in range(config.num_layers):
        for kind in ("key", "value"):
            inputs[f"past_key_values.{layer}.{kind}"] = rng.standard_normal(
                (GOLDEN_BATCH, config.num_heads, past, head_dim)).astype(np.float32)
    return inputs


def gpt2_torch_outputs(model: small.GPT2Tiny, inputs: Golden) -> Golden:
    """Run GPT2Tiny eagerly on named numpy inputs and return outputs by ONNX name."""
    layers = model.config.num_layers
    past = tuple((torch.from_numpy(inputs[f"past_key_values.{layer}.key"]),
                  torch.from_numpy(inputs[f"past_key_values.{layer}.value"])) for layer in range(layers))
    with torch.no_grad():
        logits, presents = model(torch.from_numpy(inputs["input_ids"]),
                                 torch.from_numpy(inputs["attention_mask"]),
                                 torch.from_numpy(inputs["position_ids"]), past)
    outputs = {"logits": logits.numpy()}
    for layer, (key, value) in enumerate(presents):
        outputs[f"present.{layer}.key"] = key.numpy()
        outputs[f"present.{layer}.value"] = value.numpy()
    return outputs


def export_gpt2_tiny(seed: int = 0) -> Tuple[onnx.ModelProto, Golden]:
    """Export GPT2Tiny at opset 17 with dynamic batch, sequence and past axes."""
    model = small.make_gpt2_tiny(seed)
    config = model.config
    inputs = gpt2_golden_inputs(config)
    input_names = gpt2_input_names(config.num_layers)
    output_names = gpt2_output_names(config.num_layers)

    dynamic_axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in input_names[3:]:
        dynamic_axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in output_names[1:]:
        dynamic_axes[name] = {0: "batch_size", 2: "total_sequence_length"}

    past = tuple((torch.from_numpy(inputs[f"past_key_values.{layer}.key"]),
                  torch.from_numpy(inputs[f"past_key_values.{layer}.value"]))
                 for layer in range(config.num_layers))
    arguments = (torch.from_numpy(inputs["input_ids"]), torch.from_numpy(inputs["attention_mask"]),
                 torch.from_numpy(inputs["position_ids"]), past)
    buffer = io.BytesIO()
    torch.onnx.export(model, arguments, buffer, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=TORCH_OPSET, do_constant_folding=True)
    exported = _finish_model(onnx.load_from_string(buffer.getvalue()), "gpt2_tiny")
    onnx.checker.check_model(exported)
    return exported, {**inputs, **gpt2_torch_outputs(model, inputs)}


def bert_golden_inputs(config: small.BertTinyConfig, seed: int = 2) -> Golden:
    """Draw encoder inputs of full length; batch row 1 ends in four padding tokens."""
    rng = np.random.default_rng(seed)
    sequence = config.max_positions
    attention_mask = np.ones((GOLDEN_BATCH, sequence), dtype=np.int64)
    attention_mask[1, -4:] = 0
    token_type_ids = np.zeros((GOLDEN_BATCH, sequence), dtype=np.int64)
    token_type_ids[:, sequence // 2:] = 1
    return {
        "input_ids": rng.integers(0, config.vocab_size, (GOLDEN_BATCH, sequence), dtype=np.int64),
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }


def bert_torch_outputs(model: small.BertTiny, inputs: Golden) -> Golden:
    """Run BertTiny eagerly on named numpy inputs and return last_hidden_state."""
    with torch.no_grad():
        hidden = model(*(torch.from_numpy(inputs[name])
                         for name in ("input_ids", "attention_mask", "token_type_ids")))
    return {"last_hidden_state": hidden.numpy()}


def export_bert_tiny(seed: int = 0) -> Tuple[onnx.ModelProto, Golden]:
    """Export BertTiny at opset 17 with dynamic batch and sequence axes."""
    model = small.make_bert_tiny(seed)
    inputs = bert_golden_inputs(model.config)
    input_names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {0: "batch_size", 1: "sequence_length"}
    dynamic_axes = {name: axes for name in input_names + ["last_hidden_state"]}

    buffer = io.BytesIO()
    torch.onnx.export(model, tuple(torch.from_numpy(inputs[name]) for name in input_names), buffer,
                      input_names=input_names, output_names=["last_hidden_state"],
                      dynamic_axes=dynamic_axes, opset_version=TORCH_OPSET, do_constant_folding=True)
    exported = _finish_model(onnx.load_from_string(buffer.getvalue()), "bert_tiny")
    onnx.checker.check_model(exported)
    return exported, {**inputs, **bert_torch_outputs(model, inputs)}


# ---------------------------------------------------------------------------
# attention23_tiny and gqa_tiny: graphs built with onnx.helper
# ---------------------------------------------------------------------------

def _float_initializer(name: str, array: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def attention23_weights(seed: int = 3) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    kv_width = ATTENTION_KV_HEADS * ATTENTION_HEAD_DIM
    shapes = {"Wq": (ATTENTION_HIDDEN, ATTENTION_Q_HEADS * ATTENTION_HEAD_DIM),
              "Wk": (ATTENTION_HIDDEN, kv_width), "Wv": (ATTENTION_HIDDEN, kv_width),
              "Wo": (ATTENTION_Q_HEADS * ATTENTION_HEAD_DIM, ATTENTION_HIDDEN)}
    return {name: (small.WEIGHT_STD * rng.standard_normal(shape)).astype(np.float32)
            for name, shape in shapes.items()}


def build_attention23_tiny() -> onnx.ModelProto:
    """Build projections around one opset-23 `Attention` node with GQA, a past and is_causal=1.

    Graph: x [batch, sequence, 32] -> MatMul (Wq, Wk, Wv) -> Reshape and
    Transpose to [batch, heads, sequence, 8] -> Attention(q_num_heads=4,
    kv_num_heads=2, is_causal=1, scale=0.3) with past_key/past_value ->
    Transpose and Reshape back -> MatMul Wo -> y.
    """
    weights = attention23_weights()
    head_dim = ATTENTION_HEAD_DIM
    nodes = []
    for name, heads in (("q", ATTENTION_Q_HEADS), ("k", ATTENTION_KV_HEADS), ("v", ATTENTION_KV_HEADS)):
        nodes += [
            helper.make_node("MatMul", ["x", f"W{name}"], [f"{name}_flat"]),
            helper.make_node("Reshape", [f"{name}_flat", f"{name}_heads_shape"], [f"{name}_bsnh"]),
            helper.make_node("Transpose", [f"{name}_bsnh"], [f"{name}_bnsh"], perm=[0, 2, 1, 3]),
        ]
    nodes += [
        helper.make_node("Attention", ["q_bnsh", "k_bnsh", "v_bnsh", "", "past_key", "past_value"],
                         ["attention_bnsh", "present_key", "present_value"],
                         is_causal=1, q_num_heads=ATTENTION_Q_HEADS, kv_num_heads=ATTENTION_KV_HEADS,
                         scale=ATTENTION23_SCALE),
        helper.make_node("Transpose", ["attention_bnsh"], ["attention_bsnh"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["attention_bsnh", "hidden_shape"], ["attention_flat"]),
        helper.make_node("MatMul", ["attention_flat", "Wo"], ["y"]),
    ]

    # Reshape's 0 copies the batch and sequence extents from the input.
    initializers = [_float_initializer(name, weight) for name, weight in weights.items()]
    initializers += [
        numpy_helper.from_array(np.array([0, 0, ATTENTION_Q_HEADS, head_dim], np.int64), "q_heads_shape"),
        numpy_helper.from_array(np.array([0, 0, ATTENTION_KV_HEADS, head_dim], np.int64), "k_heads_shape"),
        numpy_helper.from_array(np.array([0, 0, ATTENTION_KV_HEADS, head_dim], np.int64), "v_heads_shape"),
        numpy_helper.from_array(np.array([0, 0, ATTENTION_HIDDEN], np.int64), "hidden_shape"),
    ]
    cache_shape = ["batch", ATTENTION_KV_HEADS, "past_sequence", head_dim]
    present_shape = ["batch", ATTENTION_KV_HEADS, "total_sequence", head_dim]
    graph = helper.make_graph(
        nodes, "attention23_tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence", ATTENTION_HIDDEN]),
         helper.make_tensor_value_info("past_key", TensorProto.FLOAT, cache_shape),
         helper.make_tensor_value_info("past_value", TensorProto.FLOAT, cache_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", ATTENTION_HIDDEN]),
         helper.make_tensor_value_info("present_key", TensorProto.FLOAT, present_shape),
         helper.make_tensor_value_info("present_value", TensorProto.FLOAT, present_shape)],
        initializers)

    # onnx 1.12 does not know opset 23, so the checker cannot validate this
    # model; ir_version 10 is the IR version that opset 23 requires.
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 23)])
    model.ir_version = 10
    return _finish_model(model, "attention23_tiny")


def attention23_reference(inputs: Golden) -> Golden:
    """Compute attention23_tiny's outputs in float64 numpy and return them as float32."""
    weights = {name: weight.astype(np.float64) for name, weight in attention23_weights().items()}
    x = inputs["x"].astype(np.float64)
    batch, sequence, _ = x.shape

    def heads(projection: np.ndarray, count: int) -> np.ndarray:
        return projection.reshape(batch, sequence, count, ATTENTION_HEAD_DIM).transpose(0, 2, 1, 3)

    output, present_key, present_value = small.onnx_attention_reference(
        heads(x @ weights["Wq"], ATTENTION_Q_HEADS), heads(x @ weights["Wk"], ATTENTION_KV_HEADS),
        heads(x @ weights["Wv"], ATTENTION_KV_HEADS), inputs["past_key"], inputs["past_value"],
        scale=ATTENTION23_SCALE, is_causal=True)
    y = output.transpose(0, 2, 1, 3).reshape(batch, sequence, ATTENTION_HIDDEN) @ weights["Wo"]
    return {"y": y.astype(np.float32), "present_key": present_key.astype(np.float32),
            "present_value": present_value.astype(np.float32)}


def attention23_golden_inputs(past: int = GOLDEN_PAST, sequence: int = GOLDEN_SEQUENCE,
                              seed: int = 4) -> Golden:
    rng = np.random.default_rng(seed)
    cache_shape = (GOLDEN_BATCH, ATTENTION_KV_HEADS, past, ATTENTION_HEAD_DIM)
    return {
        "x": rng.standard_normal((GOLDEN_BATCH, sequence, ATTENTION_HIDDEN)).astype(np.float32),
        "past_key": rng.standard_normal(cache_shape).astype(np.float32),
        "past_value": rng.standard_normal(cache_shape).astype(np.float32),
    }


def gqa_weights(seed: int = 5) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    packed_width = (ATTENTION_Q_HEADS + 2 * ATTENTION_KV_HEADS) * GQA_HEAD_DIM
    cos_cache, sin_cache = small.rotary_cos_sin_cache(GQA_MAX_POSITIONS, GQA_HEAD_DIM)
    return {
        "Wqkv": (small.WEIGHT_STD * rng.standard_normal((GQA_HIDDEN, packed_width))).astype(np.float32),
        "Wo": (small.WEIGHT_STD * rng.standard_normal(
            (ATTENTION_Q_HEADS * GQA_HEAD_DIM, GQA_HIDDEN))).astype(np.float32),
        "cos_cache": cos_cache.astype(np.float32),
        "sin_cache": sin_cache.astype(np.float32),
    }


def build_gqa_tiny() -> onnx.ModelProto:
    """Build a packed-QKV projection around one com.microsoft GroupQueryAttention node.

    Graph: x [batch, sequence, 64] -> MatMul Wqkv -> packed QKV
    [batch, sequence, (4 + 2 * 2) * 16] -> GroupQueryAttention(num_heads=4,
    kv_num_heads=2, local_window_size=4, do_rotary=1, softcap=2.0) with
    past_key/past_value [batch, 2, past, 16], seqlens_k [batch] (int32) and
    total_sequence_length (int32 scalar), cos/sin caches as initializers ->
    MatMul Wo -> y.
    """
    weights = gqa_weights()
    nodes = [
        helper.make_node("MatMul", ["x", "Wqkv"], ["packed_qkv"]),
        helper.make_node("GroupQueryAttention",
                         ["packed_qkv", "", "", "past_key", "past_value", "seqlens_k",
                          "total_sequence_length", "cos_cache", "sin_cache"],
                         ["attention", "present_key", "present_value"], domain="com.microsoft",
                         num_heads=ATTENTION_Q_HEADS, kv_num_heads=ATTENTION_KV_HEADS,
                         local_window_size=GQA_WINDOW, do_rotary=1, rotary_interleaved=0,
                         softcap=GQA_SOFTCAP),
        helper.make_node("MatMul", ["attention", "Wo"], ["y"]),
    ]
    initializers = [_float_initializer(name, weight) for name, weight in weights.items()]
    cache_shape = ["batch", ATTENTION_KV_HEADS, "past_sequence", GQA_HEAD_DIM]
    # The presents have max(past buffer, total_sequence_length) slots.
    present_shape = ["batch", ATTENTION_KV_HEADS, "present_sequence", GQA_HEAD_DIM]
    graph = helper.make_graph(
        nodes, "gqa_tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence", GQA_HIDDEN]),
         helper.make_tensor_value_info("past_key", TensorProto.FLOAT, cache_shape),
         helper.make_tensor_value_info("past_value", TensorProto.FLOAT, cache_shape),
         helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch"]),
         helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", GQA_HIDDEN]),
         helper.make_tensor_value_info("present_key", TensorProto.FLOAT, present_shape),
         helper.make_tensor_value_info("present_value", TensorProto.FLOAT, present_shape)],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 17),
                                                    helper.make_operatorsetid("com.microsoft", 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return _finish_model(model, "gqa_tiny")


def gqa_reference(inputs: Golden) -> Golden:
    """Compute gqa_tiny's outputs in float64 numpy and return them as float32."""
    weights = gqa_weights()
    packed_qkv = inputs["x"].astype(np.float64) @ weights["Wqkv"].astype(np.float64)
    output, present_key, present_value = small.group_query_attention_reference(
        packed_qkv, inputs["past_key"].astype(np.float64), inputs["past_value"].astype(np.float64),
        inputs["seqlens_k"], int(inputs["total_sequence_length"]),
        weights["cos_cache"].astype(np.float64), weights["sin_cache"].astype(np.float64),
        num_heads=ATTENTION_Q_HEADS, kv_num_heads=ATTENTION_KV_HEADS,
        local_window_size=GQA_WINDOW, softcap=GQA_SOFTCAP)
    y = output @ weights["Wo"].astype(np.float64)
    return {"y": y.astype(np.float32), "present_key": present_key.astype(np.float32),
            "present_value": present_value.astype(np.float32)}


def gqa_golden_inputs(total_lengths=(10, 7), past_buffer: int = GQA_PAST_BUFFER, sequence: int = 1,
                      seed: int = 6) -> Golden:
    """Draw inputs for `sequence` new tokens per batch row after a past buffer of `past_buffer` slots.

    Row b has total_lengths[b] tokens after this step, so seqlens_k[b] is that
    minus one and only its first total_lengths[b] - sequence past slots are
    valid. The default is one decode step for two rows of different lengths,
    the batched case ONNX Runtime supports: its CPU kernel rejects
    sequence > 1 with a non-empty past unless the batch is 1.
    """
    rng = np.random.default_rng(seed)
    batch = len(total_lengths)
    cache_shape = (batch, ATTENTION_KV_HEADS, past_buffer, GQA_HEAD_DIM)
    return {
        "x": rng.standard_normal((batch, sequence, GQA_HIDDEN)).astype(np.float32),
        "past_key": rng.standard_normal(cache_shape).astype(np.float32),
        "past_value": rng.standard_normal(cache_shape).astype(np.float32),
        "seqlens_k": np.array(total_lengths, dtype=np.int32) - 1,
        "total_sequence_length": np.array(max(total_lengths), dtype=np.int32),
    }


def make_attention23_tiny() -> Tuple[onnx.ModelProto, Golden]:
    inputs = attention23_golden_inputs()
    return build_attention23_tiny(), {**inputs, **attention23_reference(inputs)}


def make_gqa_tiny() -> Tuple[onnx.ModelProto, Golden]:
    inputs = gqa_golden_inputs()
    return build_gqa_tiny(), {**inputs, **gqa_reference(inputs)}


MODELS: Dict[str, Callable[[], Tuple[onnx.ModelProto, Golden]]] = {
    "gpt2_tiny": export_gpt2_tiny,
    "bert_tiny": export_bert_tiny,
    "attention23_tiny": make_attention23_tiny,
    "gqa_tiny": make_gqa_tiny,
}


def write_model(name: str, output_dir: Path = DEFAULT_OUTPUT_DIR) -> Path:
    """Build model `name` and write model.onnx and golden.npz to output_dir/name; return that folder."""
    model, golden = MODELS[name]()
    folder = Path(output_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    np.savez(folder / "golden.npz", **golden)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("# =-"))
    parser.add_argument("output_dir", nargs="?", type=Path, default=DEFAULT_OUTPUT_DIR,
                        help="folder that receives one subfolder per model (default: data/onnx)")
    parser.add_argument("--only", choices=sorted(MODELS), action="append",
                        help="write only this model (repeatable; default: all four)")
    arguments = parser.parse_args(argv)

    torch.manual_seed(0)
    for name in arguments.only or MODELS:
        folder = write_model(name, arguments.output_dir)
        size = (folder / "model.onnx").stat().st_size
        print(f"wrote {folder}/model.onnx ({size} bytes) and golden.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
