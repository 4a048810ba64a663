# ===- rill/export/llama_random.py - A random-weight ~100M Llama model -----=== #
"""Write a Llama-shaped model with random weights as a llama2.c checkpoint, and optionally as ONNX.

Cost benchmarks need a model large enough that per-token work is dominated by
matrix products and the KV cache, not by call overhead. The default shape is
that of a ~100M-parameter Llama: dim 768, 12 layers, 12 heads, 4 key/value heads
(grouped-query attention), hidden 2048, vocabulary 32000, a classifier shared
with the embedding, and 8192 trained positions. That is 100,092,672 parameters
(about 400 MB in float32). Weights are normal with standard deviation 0.02 and
the RMSNorm weights are 1, drawn from a seeded numpy generator, so one seed
always gives the same file. The model's outputs are meaningless: use it for
speed and memory only.

The checkpoint is llama2.c's legacy float32 format (7-int32 header, weights,
RoPE tables), so `rill.models.llama2c.load_checkpoint` reads it and
`rill.export.llama2c_onnx` exports it the same way as stories260K. Files this
large are generated at benchmark time into `build/` or a temporary folder and
never committed.

Usage: python3 -m rill.export.llama_random --output build/eval/models/llama_random_100M.bin
       [--onnx DIR] [--max-positions N] [--seed S] [--dim 768 --layers 12 ...]
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np

INIT_STD = 0.02


def parameter_count(dim: int, hidden: int, layers: int, heads: int, kv_heads: int, vocab: int) -> int:
    """Return the parameter count of the shared-classifier model (RoPE tables excluded)."""
    kv_dim = dim // heads * kv_heads
    per_layer = 2 * dim + dim * dim * 2 + 2 * kv_dim * dim + 3 * hidden * dim
    return vocab * dim + layers * per_layer + dim


def write_checkpoint(path: Path, dim: int = 768, hidden: int = 2048, layers: int = 12, heads: int = 12,
                     kv_heads: int = 4, vocab: int = 32000, seq_len: int = 8192, seed: int = 0) -> Path:
    """Write the random model in llama2.c's legacy float32 format; tensors are streamed to disk one by one."""
    if dim % heads or heads % kv_heads or (dim // heads) % 2:
        raise ValueError(f"invalid shape: dim {dim}, heads {heads}, kv_heads {kv_heads} "
                         "(need dim % heads == 0, heads % kv_heads == 0 and an even head size)")
    head_size = dim // heads
    kv_dim = head_size * kv_heads
    generator = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)

    def normal(*shape):
        return (generator.standard_normal(shape, dtype=np.float32) * INIT_STD).astype(np.float32)

    with open(path, "wb") as file:
        # A positive vocabulary size marks a classifier shared with the embedding.
        file.write(struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab, seq_len))
        file.write(normal(vocab, dim).tobytes())
        file.write(np.ones((layers, dim), dtype=np.float32).tobytes())
        for rows, columns in ((dim, dim), (kv_dim, dim), (kv_dim, dim), (dim, dim)):  # wq, wk, wv, wo
            for _ in range(layers):
                file.write(normal(rows, columns).tobytes())
        file.write(np.ones((layers, dim), dtype=np.float32).tobytes())
        for rows, columns in ((hidden, dim), (dim, hidden), (hidden, dim)):  # w1, w2, w3
            for _ in range(layers):
                file.write(normal(rows, columns).tobytes())
        file.write(np.ones(dim, dtype=np.float32).tobytes())
        # llama2.c's legacy RoPE tables freq_cis_real and freq_cis_imag; readers skip them.
        angles = np.arange(seq_len, dtype=np.float64)[:, None] * 10000.0 ** (-np.arange(0, head_size, 2) / head_size)
        file.write(np.cos(angles).astype(np.float32).tobytes())
        file.write(np.sin(angles).astype(np.float32).tobytes())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="checkpoint file to write")
    parser.add_argument("--onnx", type=Path, help="also export the optimum-layout ONNX model with a cache into DIR/model.onnx")
    parser.add_argument("--max-positions", type=int, default=8192, help="rows of the ONNX RoPE tables (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="numpy generator seed (default: %(default)s)")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--seq-len", type=int, default=8192, help="trained length recorded in the header")
    args = parser.parse_args(argv)

    count = parameter_count(args.dim, args.hidden, args.layers, args.heads, args.kv_heads, args.vocab)
    write_checkpoint(args.output, args.dim, args.hidden, args.layers, args.heads, args.kv_heads, args.vocab,
                     args.seq_len, args.seed)
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes, {count:,} parameters)")
    if args.onnx:
        from rill.export.llama2c_onnx import export_onnx
        from rill.models.llama2c import load_checkpoint

        onnx_path = args.onnx / "model.onnx"
        export_onnx(load_checkpoint(args.output), onnx_path, use_cache=True, max_positions=args.max_positions)
        print(f"wrote {onnx_path} ({onnx_path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
