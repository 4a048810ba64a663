# ===- rill/models/small.py - Tiny random-weight models for importer tests -=== #
"""Tiny transformer models with random weights that exercise Rill's ONNX importer.

The ONNX files under data/onnx/ come from these definitions through
`rill.export.small_models`. Two are torch modules exported with torch.onnx
(`GPT2Tiny`, a GPT-2-style decoder in Hugging Face optimum's decoder-with-past
layout, and `BertTiny`, a BERT-style encoder), and their eager forward pass is
the golden reference. The other two are single attention operators, the ONNX
opset-23 `Attention` and ONNX Runtime's `com.microsoft.GroupQueryAttention`,
whose golden reference is the float64 numpy semantics in this file. Every
golden output is also checked against ONNX Runtime 1.30 in
python/tests/test_small_models.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn

# Weights use a wider normal distribution than GPT-2's 0.02 so that attention
# probabilities and GELU inputs are far from uniform and zero, which makes a
# wrong mask or a wrong activation visible in the outputs.
WEIGHT_STD = 0.2


@dataclass(frozen=True)
class GPT2TinyConfig:
    vocab_size: int = 64
    max_positions: int = 64
    hidden_size: int = 32
    num_heads: int = 4
    num_layers: int = 2
    layer_norm_epsilon: float = 1e-5


@dataclass(frozen=True)
class BertTinyConfig:
    vocab_size: int = 64
    max_positions: int = 16
    type_vocab_size: int = 2
    hidden_size: int = 32
    num_heads: int = 4
    num_layers: int = 2
    intermediate_size: int = 64
    layer_norm_epsilon: float = 1e-12


def _randomize(module: nn.Module, generator: torch.Generator) -> None:
    """Overwrite every parameter with seeded random values (LayerNorm scales near 1)."""
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or \
                    name.endswith("ln_f.weight") or "LayerNorm.weight" in name:
                parameter.copy_(1.0 + 0.1 * noise)
            elif parameter.dim() == 1:
                parameter.copy_(0.1 * noise)
            else:
                parameter.copy_(WEIGHT_STD * noise)


class Conv1D(nn.Module):
    """GPT-2's transposed linear layer: y = x @ weight + bias with weight [in, out].

    The forward pass flattens to 2-D and calls `torch.addmm`, as Hugging Face's
    GPT-2 does, so torch.onnx exports it as Gemm.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output_shape = x.shape[:-1] + (self.weight.shape[1],)
        flat = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)
        return flat.reshape(output_shape)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU with GPT-2's tanh approximation, written out so it exports as Tanh, Pow and Mul."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, config: GPT2TinyConfig):
        super().__init__()
        self.hidden_size = config.hidden_size
        self.num_heads = config.num_heads
        self.head_dim = config.hidden_size // config.num_heads
        self.c_attn = Conv1D(config.hidden_size, 3 * config.hidden_size)
        self.c_proj = Conv1D(config.hidden_size, config.hidden_size)
        causal = torch.tril(torch.ones(config.max_positions, config.max_positions, dtype=torch.bool))
        self.register_buffer("bias", causal.view(1, 1, config.max_positions, config.max_positions),
                             persistent=False)
        self.register_buffer("masked_bias", torch.tensor(torch.finfo(torch.float32).min), persistent=False)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, sequence, _ = x.shape
        return x.view(batch, sequence, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor,
                past_key: torch.Tensor, past_value: torch.Tensor):
        query, key, value = self.c_attn(hidden).split(self.hidden_size, dim=2)
        query = self._split_heads(query)
        key = torch.cat((past_key, self._split_heads(key)), dim=-2)
        value = torch.cat((past_value, self._split_heads(value)), dim=-2)

        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.head_dim)

        # The causal mask is the bottom-right block of a lower-triangular table,
        # because the queries are the last `query_length` of `key_length` positions.
        query_length, key_length = query.shape[-2], key.shape[-2]
        causal = self.bias[:, :, key_length - query_length:key_length, :key_length]
        scores = torch.where(causal, scores, self.masked_bias)
        probabilities = torch.softmax(scores + additive_mask, dim=-1)

        context = torch.matmul(probabilities, value).permute(0, 2, 1, 3)
        context = context.reshape(hidden.shape)
        return self.c_proj(context), key, value


class GPT2Block(nn.Module):
    def __init__(self, config: GPT2TinyConfig):
        super().__init__()
        hidden = config.hidden_size
        self.ln_1 = nn.LayerNorm(hidden, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config)
        self.ln_2 = nn.LayerNorm(hidden, eps=config.layer_norm_epsilon)
        self.c_fc = Conv1D(hidden, 4 * hidden)
        self.c_proj = Conv1D(4 * hidden, hidden)

    def forward(self, hidden, additive_mask, past_key, past_value):
        attended, present_key, present_value = self.attn(self.ln_1(hidden), additive_mask, past_key, past_value)
        hidden = hidden + attended
        hidden = hidden + self.c_proj(gelu_tanh(self.c_fc(self.ln_2(hidden))))
        return hidden, present_key, present_value


class GPT2Tiny(nn.Module):
    """GPT-2-style decoder with a KV cache, in Hugging Face optimum's decoder-with-past layout.

    Inputs: input_ids and position_ids [batch, sequence] (int64), attention_mask
    [batch, past + sequence] (int64, 1 = attend) and one (key, value) pair per
    layer, each [batch, heads, past, head_dim]. Returns the logits
    [batch, sequence, vocab] and the per-layer present (key, value) with the new
    tokens appended. The LM head reuses the token embedding table.
    """

    def __init__(self, config: GPT2TinyConfig = GPT2TinyConfig()):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.hidden_size)
        self.wpe = nn.Embedding(config.max_positions, config.hidden_size)
        self.h = nn.ModuleList(GPT2Block(config) for _ in range(config.num_layers))
        self.ln_f = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_epsilon)

    def forward(self, input_ids, attention_mask, position_ids, past_key_values):
        hidden = self.wte(input_ids) + self.wpe(position_ids)

        # Padding keys get the lowest float added to their scores, as in Hugging Face GPT-2.
        keep = attention_mask[:, None, None, :].to(hidden.dtype)
        additive_mask = (1.0 - keep) * torch.finfo(hidden.dtype).min

        presents = []
        for block, (past_key, past_value) in zip(self.h, past_key_values):
            hidden, present_key, present_value = block(hidden, additive_mask, past_key, past_value)
            presents.append((present_key, present_value))

        logits = torch.matmul(self.ln_f(hidden), self.wte.weight.t())
        return logits, tuple(presents)


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertTinyConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.hidden_size // config.num_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.hidden_size)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, sequence, _ = x.shape
        return x.view(batch, sequence, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        query = self._split_heads(self.query(hidden))
        key = self._split_heads(self.key(hidden))
        value = self._split_heads(self.value(hidden))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probabilities = torch.softmax(scores + additive_mask, dim=-1)
        context = torch.matmul(probabilities, value).permute(0, 2, 1, 3).reshape(hidden.shape)
        return self.output(context)


class BertLayer(nn.Module):
    def __init__(self, config: BertTinyConfig):
        super().__init__()
        hidden = config.hidden_size
        self.attention = BertSelfAttention(config)
        self.attention_LayerNorm = nn.LayerNorm(hidden, eps=config.layer_norm_epsilon)
        self.intermediate = nn.Linear(hidden, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, hidden)
        self.output_LayerNorm = nn.LayerNorm(hidden, eps=config.layer_norm_epsilon)

    def forward(self, hidden, additive_mask):
        # BERT is post-norm: LayerNorm follows each residual addition.
        hidden = self.attention_LayerNorm(hidden + self.attention(hidden, additive_mask))
        intermediate = nn.functional.gelu(self.intermediate(hidden))  # exact erf GELU
        return self.output_LayerNorm(hidden + self.output(intermediate))


class BertTiny(nn.Module):
    """BERT-style bidirectional encoder.

    Inputs: input_ids, attention_mask (1 = token, 0 = padding) and
    token_type_ids, all int64 [batch, sequence] with sequence <= max_positions.
    Returns last_hidden_state [batch, sequence, hidden].
    """

    def __init__(self, config: BertTinyConfig = BertTinyConfig()):
        super().__init__()
        self.config = config
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_positions, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.embeddings_LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_epsilon)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config.num_layers))

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence = input_ids.shape[1]
        position_ids = torch.arange(sequence, dtype=torch.int64).unsqueeze(0)
        hidden = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
                  + self.token_type_embeddings(token_type_ids))
        hidden = self.embeddings_LayerNorm(hidden)

        keep = attention_mask[:, None, None, :].to(hidden.dtype)
        additive_mask = (1.0 - keep) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            hidden = layer(hidden, additive_mask)
        return hidden


def make_gpt2_tiny(seed: int = 0) -> GPT2Tiny:
    """Build GPT2Tiny in eval mode with weights drawn from `seed`."""
    model = GPT2Tiny()
    _randomize(model, torch.Generator().manual_seed(seed))
    return model.eval()


def make_bert_tiny(seed: int = 0) -> BertTiny:
    """Build BertTiny in eval mode with weights drawn from `seed`."""
    model = BertTiny()
    _randomize(model, torch.Generator().manual_seed(seed))
    return model.eval()


# ---------------------------------------------------------------------------
# numpy reference semantics for the two attention operators
# ---------------------------------------------------------------------------

def masked_softmax(scores: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Softmax over the last axis restricted to `visible`; a row with no visible key gives zeros."""
    masked = np.where(visible, scores, -np.inf)
    row_max = masked.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    weights = np.where(visible, np.exp(masked - row_max), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def onnx_attention_reference(query: np.ndarray, key: np.ndarray, value: np.ndarray,
                             past_key: Optional[np.ndarray], past_value: Optional[np.ndarray],
                             scale: Optional[float] = None, is_causal: bool = False,
                             softcap: float = 0.0):
    """Compute ONNX `Attention` (opset 23) for 4-D inputs in float64.

    query [batch, q_heads, q_length, head_dim]; key and value
    [batch, kv_heads, kv_length, head_dim]; past_key and past_value
    [batch, kv_heads, past_length, head_dim] or None. Query head h reads KV head
    h // (q_heads // kv_heads). Returns (Y, present_key, present_value) where the
    presents are past and current keys concatenated on the sequence axis.

    With `is_causal`, query i attends to keys 0 .. past_length + i. The causal
    mask is aligned to the bottom-right corner of the score matrix, so every
    query attends to the whole past. ONNX Runtime 1.30 computes it this way;
    python/tests/test_small_models.py checks it against ONNX Runtime.
    """
    query, key, value = (np.asarray(x, dtype=np.float64) for x in (query, key, value))
    if past_key is not None:
        key = np.concatenate([np.asarray(past_key, dtype=np.float64), key], axis=2)
        value = np.concatenate([np.asarray(past_value, dtype=np.float64), value], axis=2)
    q_heads, kv_heads = query.shape[1], key.shape[1]
    group = q_heads // kv_heads
    head_dim = query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(head_dim)

    expanded_key = np.repeat(key, group, axis=1)
    expanded_value = np.repeat(value, group, axis=1)
    scores = scale * np.einsum("bhqd,bhkd->bhqk", query, expanded_key)
    if softcap > 0.0:
        scores = softcap * np.tanh(scores / softcap)

    q_length, total_length = query.shape[2], key.shape[2]
    visible = np.ones((q_length, total_length), dtype=bool)
    if is_causal:
        offset = total_length - q_length
        visible = np.arange(total_length)[None, :] <= np.arange(q_length)[:, None] + offset
    probabilities = masked_softmax(scores, visible)
    output = np.einsum("bhqk,bhkd->bhqd", probabilities, expanded_value)
    return output, key, value


def rotary_cos_sin_cache(max_positions: int, rotary_dim: int, base: float = 10000.0):
    """Return (cos_cache, sin_cache), each [max_positions, rotary_dim / 2], as in ORT's RotaryEmbedding.

    Row p, column i contains the cos and sin of p * base^(-2i / rotary_dim); angles are
    computed in float64.
    """
    inverse_frequency = base ** (-np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    angles = np.arange(max_positions, dtype=np.float64)[:, None] * inverse_frequency[None, :]
    return np.cos(angles), np.sin(angles)


def _rotate_half(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Apply non-interleaved rotary embedding: dimension i pairs with i + rotary_dim / 2."""
    half = cos.shape[-1]
    first, second, rest = x[..., :half], x[..., half:2 * half], x[..., 2 * half:]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin, rest], axis=-1)


def group_query_attention_reference(packed_qkv: np.ndarray, past_key: np.ndarray, past_value: np.ndarray,
                                    seqlens_k: np.ndarray, total_sequence_length: int,
                                    cos_cache: np.ndarray, sin_cache: np.ndarray, *,
                                    num_heads: int, kv_num_heads: int, local_window_size: int = -1,
                                    softcap: float = 0.0, scale: Optional[float] = None):
    """Compute com.microsoft GroupQueryAttention (CPU) with packed QKV and do_rotary=1 in float64.

    packed_qkv [batch, sequence, (num_heads + 2 * kv_num_heads) * head_dim]
    holds Q, K and V heads in that order. past_key and past_value are
    [batch, kv_num_heads, past_buffer, head_dim] (BNSH). seqlens_k[b] is the
    total sequence length of batch b minus one, so batch b's past has
    seqlens_k[b] + 1 - sequence valid entries and its new tokens take positions
    past .. past + sequence - 1. Those positions index the cos/sin caches
    [max_positions, rotary_dim / 2] for non-interleaved rotary on Q and K.

    local_window_size W > 0 lets the query at position p attend to keys
    p - W + 1 .. p, which is W keys, the same as Rill's window<W>. Some earlier
    ONNX Runtime CPU sources keep W + 1 keys, but 1.30 keeps W. softcap c > 0
    replaces each scaled score s by c * tanh(s / c) before the mask.
    Returns (output [batch, sequence, num_heads * head_dim], present_key,
    present_value) with presents [batch, kv_num_heads, max(past_buffer,
    total_sequence_length), head_dim] and zeros past each batch's valid length.

    Verified against ONNX Runtime 1.30's CPU kernel by
    python/tests/test_small_models.py: the window width, position ids taken from
    seqlens_k, the cache layout and the softcap order.
    NOTE: batches padded to different lengths (right padding inside the
    packed input) are not modeled; every batch uses all `sequence` new tokens.
    """
    packed_qkv = np.asarray(packed_qkv, dtype=np.float64)
    batch, sequence, width = packed_qkv.shape
    head_dim = width // (num_heads + 2 * kv_num_heads)
    if scale is None or scale == 0.0:
        scale = 1.0 / math.sqrt(head_dim)

    heads = packed_qkv.reshape(batch, sequence, num_heads + 2 * kv_num_heads, head_dim).transpose(0, 2, 1, 3)
    query = heads[:, :num_heads]
    key = heads[:, num_heads:num_heads + kv_num_heads]
    value = heads[:, num_heads + kv_num_heads:]

    output = np.zeros((batch, sequence, num_heads * head_dim))
    present_length = max(past_key.shape[2], total_sequence_length)
    present_key = np.zeros((batch, kv_num_heads, present_length, head_dim))
    present_value = np.zeros_like(present_key)
    group = num_heads // kv_num_heads

    for b in range(batch):
        total = int(seqlens_k[b]) + 1
        past = total - sequence
        positions = np.arange(past, total)
        cos, sin = cos_cache[positions], sin_cache[positions]
        rotated_query = _rotate_half(query[b], cos, sin)
        rotated_key = _rotate_half(key[b], cos, sin)

        present_key[b, :, :past] = past_key[b, :, :past]
        present_value[b, :, :past] = past_value[b, :, :past]
        present_key[b, :, past:total] = rotated_key
        present_value[b, :, past:total] = value[b]

        keys = np.repeat(present_key[b, :, :total], group, axis=0)
        values = np.repeat(present_value[b, :, :total], group, axis=0)
        scores = scale * np.einsum("hqd,hkd->hqk", rotated_query, keys)
        if softcap > 0.0:
            scores = softcap * np.tanh(scores / softcap)

        key_positions = np.arange(total)[None, :]
        visible = key_positions <= positions[:, None]
        if local_window_size > 0:
            visible &= key_positions > positions[:, None] - local_window_size
        probabilities = masked_softmax(scores, visible)
        context = np.einsum("hqk,hkd->qhd", probabilities, values)
        output[b] = context.reshape(sequence, num_heads * head_dim)

    return output, present_key, present_value
