# ===- rill/export/llama2c_torch.py - llama2.c as a Hugging Face-style module -=== #
"""A PyTorch module that mirrors a llama2.c checkpoint in Hugging Face's layout.

The module exists to be traced by `torch.onnx.export`, so it is written the way
Hugging Face's Llama decoder is written and exports the same graph pattern.
Attention is MatMul, scale, an additive mask, Softmax and MatMul. The causal mask
is built in the graph from the sequence lengths and combined with
`attention_mask` through Where. Grouped-query key/value heads are repeated with
Expand and Reshape. RoPE uses cos/sin tables gathered by `position_ids`, in the
half-split (`rotate_half`) layout.

llama2.c rotates interleaved pairs (2i, 2i + 1), while `rotate_half` pairs
element i with element i + head_size / 2. `half_split_permutation` gives the
row order that moves each interleaved pair to the half-split slots; applying it
to the rows of every head of wq and wk leaves all attention scores unchanged,
because q and k are permuted alike and a dot product does not depend on the
order of its terms. Values, outputs and every other weight keep their layout.
Keys in `past_key_values` and `present` are therefore rotated keys in the
half-split layout.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rill.models.llama2c.checkpoint import Checkpoint, Config
from rill.models.llama2c.model import RMS_NORM_EPS, ROPE_THETA


def half_split_permutation(head_size: int) -> np.ndarray:
    """Return the row order [0, 2, 4, ..., 1, 3, 5, ...] that maps interleaved RoPE pairs to half-split pairs."""
    return np.concatenate([np.arange(0, head_size, 2), np.arange(1, head_size, 2)])


def permute_heads(weight: np.ndarray, n_heads: int, head_size: int) -> np.ndarray:
    """Reorder the rows of a [n_heads * head_size, in] projection within each head."""
    order = half_split_permutation(head_size)
    rows = weight.reshape(n_heads, head_size, -1)[:, order, :]
    return rows.reshape(n_heads * head_size, -1)


def rope_tables(max_positions: int, head_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return float32 cos and sin tables [max_positions, head_size] in the half-split layout.

    Angles are computed in float64 and rounded once to float32.
    """
    inv_freq = ROPE_THETA ** (-np.arange(0, head_size, 2, dtype=np.float64) / head_size)
    angles = np.arange(max_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    angles = np.concatenate([angles, angles], axis=1)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


class RMSNorm(nn.Module):
    def __init__(self, weight: np.ndarray):
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(np.array(weight, dtype=np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + RMS_NORM_EPS) * self.weight


def _linear(weight: np.ndarray) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    layer.weight = nn.Parameter(torch.from_numpy(np.array(weight, dtype=np.float32)))
    return layer


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Repeat [batch, kv_heads, len, head_size] to [batch, kv_heads * n_rep, len, head_size]."""
    if n_rep == 1:
        return x
    batch, kv_heads, length, head_size = x.shape
    x = x[:, :, None, :, :].expand(batch, kv_heads, n_rep, length, head_size)
    return x.reshape(batch, kv_heads * n_rep, length, head_size)


class DecoderLayer(nn.Module):
    def __init__(self, checkpoint: Checkpoint, layer: int):
        super().__init__()
        c, w = checkpoint.config, checkpoint.weights
        self.config = c
        self.input_norm = RMSNorm(w.rms_att[layer])
        self.q_proj = _linear(permute_heads(w.wq[layer], c.n_heads, c.head_size))
        self.k_proj = _linear(permute_heads(w.wk[layer], c.n_kv_heads, c.head_size))
        self.v_proj = _linear(w.wv[layer])
        self.o_proj = _linear(w.wo[layer])
        self.post_attention_norm = RMSNorm(w.rms_ffn[layer])
        self.gate_proj = _linear(w.w1[layer])
        self.down_proj = _linear(w.w2[layer])
        self.up_proj = _linear(w.w3[layer])

    def forward(self, x, cos, sin, mask_bias, past_key=None, past_value=None):
        """Run one layer; returns the new hidden states and the present key and value."""
        c = self.config
        batch, length = x.shape[0], x.shape[1]

        h = self.input_norm(x)
        q = self.q_proj(h).view(batch, length, c.n_heads, c.head_size).transpose(1, 2)
        k = self.k_proj(h).view(batch, length, c.n_kv_heads, c.head_size).transpose(1, 2)
        v = self.v_proj(h).view(batch, length, c.n_kv_heads, c.head_size).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)

        n_rep = c.n_heads // c.n_kv_heads
        scores = torch.matmul(q, repeat_kv(k, n_rep).transpose(2, 3)) / float(np.sqrt(c.head_size))
        probabilities = torch.softmax(scores + mask_bias, dim=-1)
        attended = torch.matmul(probabilities, repeat_kv(v, n_rep))
        attended = attended.transpose(1, 2).reshape(batch, length, c.dim)
        x = x + self.o_proj(attended)

        h = self.post_attention_norm(x)
        x = x + self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class Llama2cForCausalLM(nn.Module):
    """llama2.c's model with Hugging Face optimum's decoder inputs and outputs.

    With `use_cache`, `forward(input_ids, attention_mask, position_ids, *past)`
    takes `past` as key, value, key, value, ... per layer, each
    [batch, kv_heads, past_len, head_size], and returns the logits followed by the
    present keys and values [batch, kv_heads, past_len + seq, head_size]. Without
    it, `forward(input_ids, attention_mask, position_ids)` returns the logits only.
    `attention_mask` [batch, past_len + seq] is 1 for a real token and 0 for
    padding. Positions index the RoPE tables, so they must be below
    `max_positions`.
    """

    def __init__(self, checkpoint: Checkpoint, use_cache: bool, max_positions: int):
        super().__init__()
        c: Config = checkpoint.config
        w = checkpoint.weights
        self.config = c
        self.use_cache = use_cache
        self.embed_tokens = nn.Embedding(c.vocab_size, c.dim)
        self.embed_tokens.weight = nn.Parameter(torch.from_numpy(np.array(w.token_embedding, dtype=np.float32)))
        self.layers = nn.ModuleList([DecoderLayer(checkpoint, i) for i in range(c.n_layers)])
        self.norm = RMSNorm(w.rms_final)
        self.lm_head = None if c.shared_classifier else _linear(w.wcls)

        cos, sin = rope_tables(max_positions, c.head_size)
        self.register_buffer("cos_table", torch.from_numpy(cos))
        self.register_buffer("sin_table", torch.from_numpy(sin))

    def _mask_bias(self, attention_mask, query_length, past_length, dtype):
        """Return the additive mask [batch, 1, seq, past + seq]: 0 where visible, the dtype's minimum elsewhere."""
        total_length = attention_mask.shape[1]
        query_positions = torch.arange(query_length, device=attention_mask.device) + past_length
        key_positions = torch.arange(total_length, device=attention_mask.device)
        causal = key_positions[None, :] <= query_positions[:, None]
        visible = causal[None, None, :, :] & attention_mask[:, None, None, :].bool()
        zero = torch.zeros((), dtype=dtype)
        minimum = torch.full((), torch.finfo(dtype).min, dtype=dtype)
        return torch.where(visible, zero, minimum)

    def forward(self, input_ids, attention_mask, position_ids, *past_key_values):
        c = self.config
        expected_past = 2 * c.n_layers if self.use_cache else 0
        if len(past_key_values) != expected_past:
            raise ValueError(f"expected {expected_past} past key/value tensors (got {len(past_key_values)})")

        x = self.embed_tokens(input_ids)
        cos = self.cos_table[position_ids].unsqueeze(1)
        sin = self.sin_table[position_ids].unsqueeze(1)
        past_length = past_key_values[0].shape[2] if self.use_cache else 0
        mask_bias = self._mask_bias(attention_mask, input_ids.shape[1], past_length, x.dtype)

        presents = []
        for i, layer in enumerate(self.layers):
            past_key = past_key_values[2 * i] if self.use_cache else None
            past_value = past_key_values[2 * i + 1] if self.use_cache else None
            x, key, value = layer(x, cos, sin, mask_bias, past_key, past_value)
            presents += [key, value]

        x = self.norm(x)
        logits = self.lm_head(x) if self.lm_head is not None else torch.matmul(x, self.embed_tokens.weight.t())
        if not self.use_cache:
            return logits
        return (logits, *presents)
