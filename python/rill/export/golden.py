# ===- rill/export/golden.py - Golden streaming logits for stories260K -=== #
"""Write golden token-by-token logits of a llama2.c model under each cache policy.

The stream is BOS followed by the tokens of a text file whose runs of blank lines
are collapsed to one newline. The whole file is tokenized, and the first
`--tokens` ids are kept. For every policy, `rill.models.llama2c.streaming_logits` runs
the stream in float64 and one compressed .npz per policy stores:

- `logits` float32 [n, vocab]: row t is the prediction after token t;
- `tokens` int64 [n]: the stream, BOS first;
- `policy` (str), `sinks`, `window` and `capacity` (int64 scalars; `dense` stores
  window 0 and capacity 0, meaning unbounded);
- `checkpoint` and `text` (str): the file names the data came from.

Usage: python3 -m rill.export.golden [--checkpoint F] [--tokenizer F] [--text F]
[--tokens N] [--output-dir D]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text, streaming_logits

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CHECKPOINT = REPO_ROOT / "data" / "checkpoints" / "stories260K.bin"
DEFAULT_TOKENIZER = REPO_ROOT / "data" / "checkpoints" / "tok512.bin"
DEFAULT_TEXT = REPO_ROOT / "data" / "text" / "tinystories_valid_head.txt"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "data" / "golden"
DEFAULT_TOKENS = 2000

# (policy, sinks, window): every bounded policy keeps 64 entries.
GOLDEN_POLICIES = (
    ("sinks", 4, 60),
    ("window", 0, 64),
    ("recompute", 0, 64),
    ("dense", 0, 0),
)


def golden_file_name(model_name: str, policy: str, sinks: int, window: int) -> str:
    if policy == "sinks":
        return f"{model_name}_sinks{sinks}_window{window}.npz"
    if policy == "dense":
        return f"{model_name}_dense.npz"
    return f"{model_name}_{policy}{window}.npz"


def stream_tokens(tokenizer_path: Path, text_path: Path, n_tokens: int) -> np.ndarray:
    """Return BOS plus the text's first tokens, `n_tokens` ids in all."""
    tokens = load_tokenizer(tokenizer_path).encode(read_text(text_path))
    if len(tokens) < n_tokens:
        raise ValueError(f"{text_path} has only {len(tokens)} tokens with BOS (requested {n_tokens})")
    return np.array(tokens[:n_tokens], dtype=np.int64)


def write_golden(
    checkpoint_path: Path,
    tokenizer_path: Path,
    text_path: Path,
    output_dir: Path,
    n_tokens: int = DEFAULT_TOKENS,
    policies=GOLDEN_POLICIES,
) -> list[Path]:
    """Compute and save one golden file per (policy, sinks, window); return their paths."""
    model = Llama2cModel(load_checkpoint(checkpoint_path))
    tokens = stream_tokens(tokenizer_path, text_path, n_tokens)
    output_dir.mkdir(parents=True, exist_ok=True)

    written = []
    for policy, sinks, window in policies:
        start = time.perf_counter()
        logits = streaming_logits(model, tokens, policy, sinks, window if policy != "dense" else None)
        if policy == "dense":
            capacity = 0
        elif policy == "sinks":
            capacity = sinks + window
        else:
            capacity = window

        path = output_dir / golden_file_name(checkpoint_path.stem, policy, sinks, window)
        np.savez_compressed(
            path,
            logits=logits.astype(np.float32),
            tokens=tokens,
            policy=np.array(policy),
            sinks=np.int64(sinks if policy == "sinks" else 0),
            window=np.int64(window),
            capacity=np.int64(capacity),
            checkpoint=np.array(checkpoint_path.name),
            text=np.array(text_path.name),
        )
        seconds = time.perf_counter() - start
        print(f"wrote {path} ({path.stat().st_size:,} bytes, {seconds:.1f} s)")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="llama2.c checkpoint (fp32 or int8)")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER, help="llama2.c tokenizer.bin")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="UTF-8 text to stream")
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS, help="stream length in tokens, BOS included (default: %(default)s)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help="folder for the .npz files")
    args = parser.parse_args(argv)
    if args.tokens < 1:
        parser.error(f"--tokens must be >= 1 (got {args.tokens})")

    write_golden(args.checkpoint, args.tokenizer, args.text, args.output_dir, args.tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
