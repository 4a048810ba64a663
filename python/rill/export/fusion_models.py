# ===- rill/export/fusion_models.py - Tiny attention blocks for fusion tests -=== #
"""Export one-layer attention blocks that exercise each RoPE and key/value repetition form.

`rill-fuse-attention` recognises RoPE and grouped-query repetition by the graph
shape that `torch.onnx.export` (torch 1.13, opset 17) produces for a few common
ways of writing them. Each variant here writes one of those ways, so the fusion
tests can check that the pass rewrites the exported graph and that the fused
graph computes the same outputs as ONNX Runtime on the original model.

The block is `out = Wo attention(rope(Wq x), rope(Wk x), Wv x)` with a causal
mask, on inputs `hidden` [B, T, hidden] (float32) and `position_ids` [B, T]
(int64). Variants:

- `rope`: `half_tables` (Hugging Face `rotate_half` with cos/sin rows gathered
  from [P, D] tables), `half_computed` (Hugging Face Llama: angles computed as
  position ids times `inv_freq`, concatenated with themselves, then Cos/Sin),
  `interleaved_tables` and `interleaved_computed` (Meta Llama's real-number
  form: view the head as [D / 2, 2] pairs, rotate each pair, flatten back,
  with cos/sin [P, D / 2] gathered or computed).
- `pairs` (interleaved forms): `gather` reads the even and odd channels as
  `x.reshape(..., D / 2, 2)[..., 0]` and `[..., 1]` (Gather), `strided` as
  `x[..., 0::2]` and `x[..., 1::2]` (Slice with step 2, as GPT-J writes it).
- `rotary_dim`: rotate only the first channels and pass the rest through with
  Slice and Concat (GPT-NeoX's partial rotary).
- `repeat`: how key/value heads are repeated for grouped-query attention:
  `expand` (Unsqueeze, Expand, Reshape as in Hugging Face's `repeat_kv`),
  `tile` (Unsqueeze, Tile, Reshape) or `tile_heads` (Tile of the head axis,
  which is grouped-query repetition only with one key/value head).

Weights come from `torch.manual_seed(seed)` and inputs from
`numpy.random.default_rng(seed)`, so one seed always gives the same model.

Usage: python3 -m rill.export.fusion_models OUTPUT_DIR [--rope half_computed] [--repeat tile] ...
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
import torch
from torch import nn

TORCH_OPSET = 17
ROPE_FORMS = ("half_tables", "half_computed", "interleaved_tables", "interleaved_computed")
REPEAT_FORMS = ("expand", "tile", "tile_heads")
PAIR_FORMS = ("gather", "strided")


@dataclass(frozen=True)
class BlockConfig:
    """Shape and variant of one exported attention block."""

    rope: str = "half_tables"
    repeat: str = "expand"
    pairs: str = "gather"
    hidden: int = 32
    heads: int = 4
    kv_heads: int = 2
    head_dim: int = 8
    rotary_dim: Optional[int] = None
    theta: float = 10000.0
    max_positions: int = 16
    batch: int = 2
    sequence: int = 5

    def validate(self) -> None:
        """Raise ValueError when the variant names or the shape do not fit together."""
        if self.rope not in ROPE_FORMS:
            raise ValueError(f"rope must be one of {ROPE_FORMS} (got {self.rope!r})")
        if self.repeat not in REPEAT_FORMS:
            raise ValueError(f"repeat must be one of {REPEAT_FORMS} (got {self.repeat!r})")
        if self.pairs not in PAIR_FORMS:
            raise ValueError(f"pairs must be one of {PAIR_FORMS} (got {self.pairs!r})")
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        rotary = self.effective_rotary_dim
        if rotary % 2 or rotary > self.head_dim:
            raise ValueError(f"rotary_dim must be even and at most head_dim {self.head_dim} (got {rotary})")

    @property
    def effective_rotary_dim(self) -> int:
        return self.head_dim if self.rotary_dim is None else self.rotary_dim


def inverse_frequencies(rotary_dim: int, theta: float) -> np.ndarray:
    """Return `theta ** (-2 i / rotary_dim)` for i < rotary_dim / 2, in float32."""
    return (theta ** (-np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)).astype(np.float32)


def angle_tables(max_positions: int, rotary_dim: int, theta: float) -> Tuple[np.ndarray, np.ndarray]:
    """Return float32 cos and sin tables [max_positions, rotary_dim / 2], computed in float64."""
    inv_freq = theta ** (-np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    angles = np.arange(max_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class AttentionBlock(nn.Module):
    """One attention layer whose RoPE and key/value repetition follow `config`."""

    def __init__(self, config: BlockConfig):
        super().__init__()
        config.validate()
        self.config = config
        c = config
        self.q_proj = nn.Linear(c.hidden, c.heads * c.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=False)
        self.o_proj = nn.Linear(c.heads * c.head_dim, c.hidden, bias=False)

        rotary = c.effective_rotary_dim
        cos, sin = angle_tables(c.max_positions, rotary, c.theta)
        if c.rope.startswith("half"):
            cos, sin = np.concatenate([cos, cos], axis=1), np.concatenate([sin, sin], axis=1)
        self.register_buffer("cos_table", torch.from_numpy(cos))
        self.register_buffer("sin_table", torch.from_numpy(sin))
        self.register_buffer("inv_freq", torch.from_numpy(inverse_frequencies(rotary, c.theta)))

    def _cos_sin(self, position_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return cos and sin [B, 1, T, width] for the configured RoPE form."""
        if self.config.rope.endswith("tables"):
            return self.cos_table[position_ids].unsqueeze(1), self.sin_table[position_ids].unsqueeze(1)
        freqs = position_ids[:, :, None].float() * self.inv_freq
        if self.config.rope.startswith("half"):
            freqs = torch.cat((freqs, freqs), dim=-1)
        return freqs.cos().unsqueeze(1), freqs.sin().unsqueeze(1)

    def _rotate(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Apply RoPE to the first rotary_dim channels of x [B, H, T, D]."""
        rotary = self.config.effective_rotary_dim
        passed = None
        if rotary < self.config.head_dim:
            x, passed = x[..., :rotary], x[..., rotary:]
        if self.config.rope.startswith("half"):
            rotated = x * cos + rotate_half(x) * sin
        else:
            if self.config.pairs == "gather":
                pairs = x.reshape(*x.shape[:-1], rotary // 2, 2)
                even, odd = pairs[..., 0], pairs[..., 1]
            else:
                even, odd = x[..., 0::2], x[..., 1::2]
            rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(3)
        return rotated if passed is None else torch.cat((rotated, passed), dim=-1)

    def _repeat_kv(self, x: torch.Tensor) -> torch.Tensor:
        """Repeat [B, Hkv, T, D] key/value heads to [B, H, T, D] in the configured form."""
        c = self.config
        repeats = c.heads // c.kv_heads
        batch, kv_heads, length, width = x.shape
        if c.repeat == "expand":
            x = x[:, :, None, :, :].expand(batch, kv_heads, repeats, length, width)
            return x.reshape(batch, kv_heads * repeats, length, width)
        if c.repeat == "tile":
            x = x[:, :, None, :, :].repeat(1, 1, repeats, 1, 1)
            return x.reshape(batch, kv_heads * repeats, length, width)
        return x.repeat(1, repeats, 1, 1)

    def forward(self, hidden: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        c = self.config
        batch, length, _ = hidden.shape
        q = self.q_proj(hidden).view(batch, length, c.heads, c.head_dim).transpose(1, 2)
        k = self.k_proj(hidden).view(batch, length, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(hidden).view(batch, length, c.kv_heads, c.head_dim).transpose(1, 2)

        cos, sin = self._cos_sin(position_ids)
        q = self._rotate(q, cos, sin)
        k = self._rotate(k, cos, sin)
        k = self._repeat_kv(k)
        v = self._repeat_kv(v)

        scores = torch.matmul(q, k.transpose(2, 3)) / float(np.sqrt(c.head_dim))
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        probabilities = torch.softmax(scores + causal, dim=-1)
        attended = torch.matmul(probabilities, v).transpose(1, 2).reshape(batch, length, c.heads * c.head_dim)
        return self.o_proj(attended)


def make_inputs(config: BlockConfig, seed: int = 0) -> Dict[str, np.ndarray]:
    """Draw hidden states and per-row position ids that start at different offsets below max_positions."""
    rng = np.random.default_rng(seed)
    hidden = rng.standard_normal((config.batch, config.sequence, config.hidden)).astype(np.float32)
    starts = rng.integers(0, config.max_positions - config.sequence + 1, size=config.batch)
    position_ids = (starts[:, None] + np.arange(config.sequence)[None, :]).astype(np.int64)
    return {"hidden": hidden, "position_ids": position_ids}


def export_block(config: BlockConfig, seed: int = 0) -> Tuple[onnx.ModelProto, Dict[str, np.ndarray]]:
    """Export the block with static shapes; returns the model and its inputs."""
    torch.manual_seed(seed)
    block = AttentionBlock(config).eval()
    inputs = make_inputs(config, seed)
    arguments = (torch.from_numpy(inputs["hidden"]), torch.from_numpy(inputs["position_ids"]))
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(block, arguments, buffer, input_names=["hidden", "position_ids"],
                          output_names=["output"], opset_version=TORCH_OPSET, do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    model.producer_name = "rill.export.fusion_models"
    model.graph.name = "attention_block"
    onnx.checker.check_model(model)
    return model, inputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="folder to write model.onnx and inputs.npz into")
    parser.add_argument("--rope", choices=ROPE_FORMS, default="half_tables", help="RoPE form")
    parser.add_argument("--repeat", choices=REPEAT_FORMS, default="expand", help="key/value repetition form")
    parser.add_argument("--pairs", choices=PAIR_FORMS, default="gather",
                        help="how interleaved forms read the even and odd channels")
    parser.add_argument("--kv-heads", type=int, default=2, help="key/value heads (the block has 4 query heads)")
    parser.add_argument("--rotary-dim", type=int, help="rotated channels per head (default: all 8)")
    parser.add_argument("--theta", type=float, default=10000.0, help="RoPE base")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and inputs")
    args = parser.parse_args(argv)

    config = BlockConfig(rope=args.rope, repeat=args.repeat, pairs=args.pairs, kv_heads=args.kv_heads,
                         rotary_dim=args.rotary_dim, theta=args.theta)
    try:
        model, inputs = export_block(config, args.seed)
    except ValueError as error:
        print(f"fusion_models: {error}", file=sys.stderr)
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(model, args.output_dir / "model.onnx")
    np.savez(args.output_dir / "inputs.npz", **inputs)
    print(f"wrote {args.output_dir / 'model.onnx'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
