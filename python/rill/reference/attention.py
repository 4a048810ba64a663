# ===- rill/reference/attention.py - Masked attention in float64 ------=== #
"""Scaled dot-product attention of the numpy reference, computed in float64.

`attention` is the oracle for every attention kernel of the project. It supports
grouped-query heads, a structured mask over stream positions (see
`rill.reference.masks`), an optional additive bias and tanh soft-capping. It
also supports learned per-head sink logits, which only enlarge the softmax
denominator, as gpt-oss and the per-head `head_sink` of ONNX Runtime's
`GroupQueryAttention` do. A query row with no visible key returns zeros, never NaN.
"""

from __future__ import annotations

import numpy as np

from rill.reference.masks import Mask, parse_mask

__all__ = ["attention", "attention_probabilities", "visibility"]


def _positions(start_or_array, length: int, name: str) -> np.ndarray:
    """Expand a start position into `start + arange(length)`, or check an array."""
    array = np.asarray(start_or_array)
    if array.ndim == 0:
        if array.dtype.kind not in "iu":
            raise ValueError(f"{name} must be an integer position (got {start_or_array!r})")
        return int(array) + np.arange(length, dtype=np.int64)

    if array.shape != (length,):
        raise ValueError(f"{name} must be a scalar or have shape ({length},) (got {array.shape})")
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must contain integer positions (got dtype {array.dtype})")
    return array.astype(np.int64)


def visibility(mask: Mask | str, q_positions, k_positions, num_heads: int,
               layer: int = 0) -> np.ndarray:
    """Evaluate `mask` for every head and return a bool array [num_heads, Tq, Tk]."""
    if isinstance(mask, str):
        mask = parse_mask(mask)
    if not isinstance(mask, Mask):
        raise ValueError(f"mask must be a Mask or mask text (got {mask!r})")
    return np.stack(
        [mask.matrix(q_positions, k_positions, head=h, layer=layer) for h in range(num_heads)]
    )


def attention_probabilities(q, k, q_pos0, k_pos0, mask, bias=None, sink_logits=None,
                            scale=None, softcap=None, layer: int = 0) -> np.ndarray:
    """Compute the attention weights [B, Hq, Tq, Tk] in float64.

    Arguments are those of `attention`. Each row sums to 1, or to less than 1 when
    sink logits take part of the mass, or to 0 when no key is visible.
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if q.ndim != 4 or k.ndim != 4:
        raise ValueError(f"q and k must be [B, H, T, D] (got shapes {q.shape} and {k.shape})")
    batch, q_heads, q_len, head_dim = q.shape
    if k.shape[0] != batch or k.shape[3] != head_dim:
        raise ValueError(f"k shape {k.shape} does not match q shape {q.shape} in batch or head dim")
    kv_heads, k_len = k.shape[1], k.shape[2]
    if kv_heads == 0 or q_heads % kv_heads != 0:
        raise ValueError(
            f"query heads must be a multiple of key/value heads (got {q_heads} and {kv_heads})"
        )

    # Grouped-query attention: query head h reads key/value head h // group.
    group = q_heads // kv_heads
    k_per_query_head = np.repeat(k, group, axis=1)

    if scale is None:
        scale = 1.0 / np.sqrt(head_dim)
    scores = np.einsum("bhqd,bhkd->bhqk", q, k_per_query_head) * float(scale)

    if softcap is not None:
        if not softcap > 0:
            raise ValueError(f"softcap must be positive (got {softcap!r})")
        scores = softcap * np.tanh(scores / softcap)

    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if (bias.ndim != 4 or bias.shape[0] not in (1, batch)
                or bias.shape[1] not in (1, q_heads) or bias.shape[2:] != (q_len, k_len)):
            raise ValueError(
                f"bias must be [B or 1, Hq or 1, Tq, Tk] = [{batch} or 1, {q_heads} or 1, "
                f"{q_len}, {k_len}] (got {bias.shape})"
            )
        scores = scores + bias

    q_positions = _positions(q_pos0, q_len, "q_pos0")
    k_positions = _positions(k_pos0, k_len, "k_pos0")
    visible = visibility(mask, q_positions, k_positions, q_heads, layer)[None]

    # A key whose biased score is -inf (an additive mask) counts as masked, so a
    # row of such keys yields zeros like any other empty row.
    visible = visible & (scores > -np.inf)

    masked_scores = np.where(visible, scores, -np.inf)
    row_max = np.max(masked_scores, axis=-1, keepdims=True, initial=-np.inf)

    if sink_logits is not None:
        sink_logits = np.asarray(sink_logits, dtype=np.float64)
        if sink_logits.shape != (q_heads,):
            raise ValueError(f"sink_logits must have shape ({q_heads},) (got {sink_logits.shape})")
        sink = sink_logits[None, :, None, None]
        row_max = np.maximum(row_max, sink)

    # Rows without a visible key get a finite max, so exp() never computes inf - inf.
    any_visible = visible.any(axis=-1, keepdims=True)
    row_max = np.where(any_visible, row_max, 0.0)

    weights = np.where(visible, np.exp(np.where(visible, scores, 0.0) - row_max), 0.0)
    denominator = weights.sum(axis=-1, keepdims=True)
    if sink_logits is not None:
        denominator = denominator + np.exp(sink - row_max)

    safe_denominator = np.where(any_visible, denominator, 1.0)
    return np.where(any_visible, weights / safe_denominator, 0.0)


def attention(q, k, v, q_pos0, k_pos0, mask, bias=None, sink_logits=None, scale=None,
              softcap=None, layer: int = 0) -> np.ndarray:
    """Compute masked scaled dot-product attention in float64.

    Shapes: q [B, Hq, Tq, D], k [B, Hkv, Tk, D], v [B, Hkv, Tk, Dv], result
    [B, Hq, Tq, Dv]. Hq must be a multiple of Hkv, and query head h uses key/value
    head `h // (Hq // Hkv)`.

    Positions: query i is at stream position `q_pos0 + i` and key j at
    `k_pos0 + j`. Either may instead be an integer array of length Tq or Tk, for
    caches whose keys are not contiguous in the stream.

    Steps, in order:

    1. `scores = q . k * scale`, where scale defaults to 1/sqrt(D).
    2. `scores = softcap * tanh(scores / softcap)` when softcap is given.
    3. `scores += bias`, with bias [B or 1, Hq or 1, Tq, Tk] when given.
    4. Apply `mask`, a `Mask` or mask text, evaluated per head. `layer` selects
       BigBird's random blocks. Keys whose score is -inf count as masked.
    5. Softmax over the visible keys with row max `m`. `sink_logits` [Hq] adds
       `exp(sink_logits[h] - m)` to the denominator only.

    A row with no visible key returns zeros, with or without sink logits.
    """
    v = np.asarray(v, dtype=np.float64)
    k_shape = np.shape(k)
    if v.ndim != 4 or v.shape[:3] != tuple(k_shape[:3]):
        raise ValueError(f"v must be [B, Hkv, Tk, Dv] matching k {tuple(k_shape)} (got {v.shape})")

    probabilities = attention_probabilities(q, k, q_pos0, k_pos0, mask, bias, sink_logits,
                                            scale, softcap, layer)
    group = probabilities.shape[1] // v.shape[1]
    v_per_query_head = np.repeat(v, group, axis=1)
    return np.einsum("bhqk,bhkd->bhqd", probabilities, v_per_query_head)
