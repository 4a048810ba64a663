# ===- rill/export/llama2c_onnx.py - Export llama2.c models to ONNX ---=== #
"""Export a llama2.c checkpoint to ONNX in Hugging Face optimum's decoder layout.

Two graphs come out of one checkpoint, each with a `golden.npz` of inputs and
expected outputs computed by the float64 numpy model:

- `<name>/model.onnx` with a KV cache: inputs `input_ids` [batch, seq] int64,
  `attention_mask` [batch, past + seq] int64, `position_ids` [batch, seq] int64
  and `past_key_values.{i}.key` / `.value` [batch, kv_heads, past, head_size]
  float32; outputs `logits` [batch, seq, vocab] and `present.{i}.key` / `.value`.
- `<name>_nocache/model.onnx`: the same without cache inputs and outputs.

Batch, sequence and past lengths are dynamic axes. Cached keys are rotated keys
in the half-split RoPE layout that the exported q/k projections use (see
`rill.export.llama2c_torch`).

Usage: python3 -m rill.export.llama2c_onnx [--checkpoint F] [--tokenizer F]
[--text F] [--output-dir D] [--name N] [--max-positions P]
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from pathlib import Path

import numpy as np

from rill.models.llama2c import BOS, Checkpoint, Llama2cModel, load_checkpoint, load_tokenizer, read_text

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CHECKPOINT = REPO_ROOT / "data" / "checkpoints" / "stories260K.bin"
DEFAULT_TOKENIZER = REPO_ROOT / "data" / "checkpoints" / "tok512.bin"
DEFAULT_TEXT = REPO_ROOT / "data" / "text" / "tinystories_valid_head.txt"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "data" / "onnx"

OPSET = 17

# The RoPE tables cover positions 0..2047, enough to run the 2,000-token golden
# streams of data/golden with the dense policy.
DEFAULT_MAX_POSITIONS = 2048

# Shapes of the cache variant's golden example. Row 0 has 7 past and 5 new tokens.
# Row 1 has 2 left-padding slots in its past, so it has only 5 real past tokens.
GOLDEN_PAST = 7
GOLDEN_NEW = 5
GOLDEN_ROW1_PADDING = 2
GOLDEN_NOCACHE_LENGTH = 16


def input_names(n_layers: int, use_cache: bool) -> list[str]:
    names = ["input_ids", "attention_mask", "position_ids"]
    if use_cache:
        for i in range(n_layers):
            names += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
    return names


def output_names(n_layers: int, use_cache: bool) -> list[str]:
    names = ["logits"]
    if use_cache:
        for i in range(n_layers):
            names += [f"present.{i}.key", f"present.{i}.value"]
    return names


def _dynamic_axes(n_layers: int, use_cache: bool) -> dict[str, dict[int, str]]:
    total = "total_sequence_length" if use_cache else "sequence_length"
    axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: total},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    if use_cache:
        for i in range(n_layers):
            for kind in ("key", "value"):
                axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
                axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    return axes


def export_onnx(checkpoint: Checkpoint, path: Path, use_cache: bool, max_positions: int = DEFAULT_MAX_POSITIONS):
    """Trace the model with torch.onnx.export at opset 17, check it with onnx.checker and save it to `path`."""
    import onnx
    import torch

    from rill.export.llama2c_torch import Llama2cForCausalLM

    c = checkpoint.config
    module = Llama2cForCausalLM(checkpoint, use_cache=use_cache, max_positions=max_positions).eval()

    # Example inputs only fix the graph's structure; every length is a dynamic axis.
    batch, length, past = 2, 3, 4 if use_cache else 0
    example = [
        torch.ones((batch, length), dtype=torch.int64),
        torch.ones((batch, past + length), dtype=torch.int64),
        torch.arange(past, past + length, dtype=torch.int64).repeat(batch, 1),
    ]
    if use_cache:
        example += [torch.zeros((batch, c.n_kv_heads, past, c.head_size)) for _ in range(2 * c.n_layers)]

    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about Python ints taken from tensor shapes; the dynamic
        # axes test in python/tests runs other lengths to show the graph follows them.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module,
            tuple(example),
            buffer,
            input_names=input_names(c.n_layers, use_cache),
            output_names=output_names(c.n_layers, use_cache),
            dynamic_axes=_dynamic_axes(c.n_layers, use_cache),
            opset_version=OPSET,
            do_constant_folding=True,
        )

    model = onnx.load_from_string(buffer.getvalue())
    metadata = {
        "rill.source": checkpoint.path.name,
        "rill.rope_layout": "half_split",
        "rill.rope_note": "q/k projection rows are permuted per head from llama2.c's interleaved RoPE pairs",
        "rill.max_positions": str(max_positions),
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return model


def _to_half_split(keys: np.ndarray, head_size: int) -> np.ndarray:
    """Reorder the last axis of rotated keys from llama2.c's interleaved layout to half-split."""
    from rill.export.llama2c_torch import half_split_permutation

    return keys[..., half_split_permutation(head_size)]


def _cache_tensors(model: Llama2cModel, tokens: np.ndarray):
    """Return logits and, per layer, rotated keys and values [kv_heads, n, head_size] in the ONNX layout."""
    logits, cache = model.forward(tokens, return_cache=True)
    layers = []
    for keys, values in cache:
        keys = _to_half_split(np.transpose(keys, (1, 0, 2)), model.config.head_size)
        layers.append((keys, np.transpose(values, (1, 0, 2))))
    return logits, layers


def golden_with_cache(model: Llama2cModel, text_tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Build the cache variant's golden inputs and outputs (batch 2, past 7, 5 new tokens).

    Row 0 is BOS plus the first 11 text tokens. Row 1 contains 10 real tokens (BOS plus
    text tokens from index 200 on) behind 2 left-padding slots: its past slots
    0 and 1 are zeros masked out by `attention_mask`, and its positions start
    after the padding.
    """
    c = model.config
    total = GOLDEN_PAST + GOLDEN_NEW
    row0 = np.concatenate([[BOS], text_tokens[: total - 1]])
    row1 = np.concatenate([[BOS], text_tokens[200 : 200 + total - GOLDEN_ROW1_PADDING - 1]])
    pad = GOLDEN_ROW1_PADDING

    logits0, cache0 = _cache_tensors(model, row0)
    logits1, cache1 = _cache_tensors(model, row1)
    zeros = np.zeros((c.n_kv_heads, pad, c.head_size))

    def pad_row1(array):
        return np.concatenate([zeros, array], axis=1)

    golden = {
        "input_ids": np.stack([row0[GOLDEN_PAST:], row1[GOLDEN_PAST - pad :]]).astype(np.int64),
        "attention_mask": np.ones((2, total), dtype=np.int64),
        "position_ids": np.stack([np.arange(GOLDEN_PAST, total), np.arange(GOLDEN_PAST - pad, total - pad)]),
    }
    golden["attention_mask"][1, :pad] = 0
    for i in range(c.n_layers):
        for slot, kind in enumerate(("key", "value")):
            present = np.stack([cache0[i][slot], pad_row1(cache1[i][slot])]).astype(np.float32)
            golden[f"past_key_values.{i}.{kind}"] = present[:, :, :GOLDEN_PAST]
            golden[f"present.{i}.{kind}"] = present
    golden["logits"] = np.stack([logits0[GOLDEN_PAST:], logits1[GOLDEN_PAST - pad :]]).astype(np.float32)
    golden["position_ids"] = golden["position_ids"].astype(np.int64)
    return golden


def golden_without_cache(model: Llama2cModel, text_tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Build the no-cache variant's golden data: two unpadded rows of 16 tokens, BOS first."""
    n = GOLDEN_NOCACHE_LENGTH
    rows = np.stack([
        np.concatenate([[BOS], text_tokens[: n - 1]]),
        np.concatenate([[BOS], text_tokens[300 : 300 + n - 1]]),
    ]).astype(np.int64)
    return {
        "input_ids": rows,
        "attention_mask": np.ones_like(rows),
        "position_ids": np.tile(np.arange(n, dtype=np.int64), (2, 1)),
        "logits": np.stack([model.forward(row) for row in rows]).astype(np.float32),
    }


def export_all(
    checkpoint_path: Path,
    tokenizer_path: Path,
    text_path: Path,
    output_dir: Path,
    name: str,
    max_positions: int = DEFAULT_MAX_POSITIONS,
) -> list[Path]:
    """Write both variants and their golden files; return the paths written."""
    checkpoint = load_checkpoint(checkpoint_path)
    model = Llama2cModel(checkpoint)
    tokenizer = load_tokenizer(tokenizer_path)
    text_tokens = np.array(tokenizer.encode(read_text(text_path)[:5000], bos=False), dtype=np.int64)

    written = []
    for use_cache, folder, build_golden in (
        (True, output_dir / name, golden_with_cache),
        (False, output_dir / f"{name}_nocache", golden_without_cache),
    ):
        export_onnx(checkpoint, folder / "model.onnx", use_cache, max_positions)
        np.savez_compressed(folder / "golden.npz", **build_golden(model, text_tokens))
        written += [folder / "model.onnx", folder / "golden.npz"]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="llama2.c checkpoint (fp32 or int8)")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER, help="llama2.c tokenizer.bin")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="text whose tokens fill the golden inputs")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help="folder that receives NAME/ and NAME_nocache/")
    parser.add_argument("--name", default=None, help="model folder name (default: the checkpoint's file stem)")
    parser.add_argument(
        "--max-positions", type=int, default=DEFAULT_MAX_POSITIONS,
        help="rows of the RoPE cos/sin tables, so position_ids must stay below this (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.max_positions < 1:
        parser.error(f"--max-positions must be >= 1 (got {args.max_positions})")

    name = args.name or args.checkpoint.stem
    for path in export_all(args.checkpoint, args.tokenizer, args.text, args.output_dir, name, args.max_positions):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
