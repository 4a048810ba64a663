# ===- tests/test_llama2c_streaming.py - stories260K under cache policies -=== #
"""Tests of `rill.models.llama2c.streaming_logits` on stories260K.

Each policy is compared with a computation that does not share its cache code.
These are the dense forward pass and a from-scratch forward pass over the
recompute window. For StreamingLLM, a loop written here rotates every key once at
its stream position and rotates the query per segment instead of re-rotating the
cache.
"""

from pathlib import Path

import numpy as np
import pytest

from rill.models.llama2c import (
    Llama2cModel,
    apply_rope_interleaved,
    load_checkpoint,
    load_tokenizer,
    read_text,
    streaming_logits,
)

DATA = Path(__file__).resolve().parents[2] / "data"
N_TOKENS = 120


@pytest.fixture(scope="module")
def model():
    return Llama2cModel(load_checkpoint(DATA / "checkpoints" / "stories260K.bin"))


@pytest.fixture(scope="module")
def tokens():
    tokenizer = load_tokenizer(DATA / "checkpoints" / "tok512.bin")
    text = read_text(DATA / "text" / "tinystories_valid_head.txt")[:2000]
    return np.array(tokenizer.encode(text)[:N_TOKENS])


def rotate_once_logits(model, tokens, sinks, window):
    """StreamingLLM logits from keys rotated once at their stream positions.

    RoPE scores depend only on query position minus key position. The reference
    places entry j at in-cache position j and the query at n - 1, so sink keys
    (stream position j) see the query at n - 1 and window keys see it at its
    stream position t.
    """
    c = model.config
    capacity = sinks + window
    keys = [dict() for _ in range(c.n_layers)]
    values = [dict() for _ in range(c.n_layers)]
    out = []
    for t, token in enumerate(tokens):
        kept = list(range(t + 1)) if t < capacity else list(range(sinks)) + list(range(t - window + 1, t + 1))
        n_sinks = min(sinks, len(kept)) if t >= capacity else 0
        x = model.embed(np.array([token]))
        for layer in range(c.n_layers):
            q, k, v = model.qkv(layer, x)
            keys[layer][t] = apply_rope_interleaved(k, np.array([t]))[0]
            values[layer][t] = v[0]
            layer_keys = np.stack([keys[layer][i] for i in kept])
            layer_values = np.stack([values[layer][i] for i in kept])

            sink_part = np.zeros(len(kept), dtype=bool)
            sink_part[:n_sinks] = True
            q_sinks = apply_rope_interleaved(q, np.array([len(kept) - 1]))
            q_window = apply_rope_interleaved(q, np.array([t]))

            # Score both segments with their own query rotation, then attend once.
            group = c.n_heads // c.n_kv_heads
            k_heads = np.repeat(layer_keys, group, axis=1)
            scores = np.where(
                sink_part[None, :],
                np.einsum("hd,khd->hk", q_sinks[0], k_heads),
                np.einsum("hd,khd->hk", q_window[0], k_heads),
            ) / np.sqrt(c.head_size)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights /= weights.sum(axis=1, keepdims=True)
            attended = np.einsum("hk,khd->hd", weights, np.repeat(layer_values, group, axis=1))
            x = model.finish_layer(layer, x, attended.reshape(1, c.dim))
        out.append(model.classify(x)[0])
    return np.stack(out)


def test_dense_matches_forward(model, tokens):
    np.testing.assert_allclose(streaming_logits(model, tokens, "dense"), model.forward(tokens), atol=1e-10)


@pytest.mark.parametrize("policy, sinks, window", [("window", 0, 16), ("recompute", 0, 16), ("sinks", 4, 12)])
def test_policy_equals_dense_until_full(model, tokens, policy, sinks, window):
    capacity = 16
    logits = streaming_logits(model, tokens[:40], policy, sinks, window)
    dense = model.forward(tokens[:40])
    np.testing.assert_allclose(logits[:capacity], dense[:capacity], atol=1e-10)
    assert np.abs(logits[capacity:] - dense[capacity:]).max() > 1e-3


def test_recompute_reencodes_window(model, tokens):
    window = 10
    logits = streaming_logits(model, tokens[:40], "recompute", window=window)
    for t in (9, 10, 25, 39):
        start = max(0, t - window + 1)
        expected = model.forward(tokens[start : t + 1])[-1]
        np.testing.assert_allclose(logits[t], expected, atol=1e-10)


def test_sinks_matches_rotate_once(model, tokens):
    logits = streaming_logits(model, tokens, "sinks", sinks=4, window=20)
    np.testing.assert_allclose(logits, rotate_once_logits(model, tokens, 4, 20), atol=1e-9)


def test_window_matches_rotate_once(model, tokens):
    logits = streaming_logits(model, tokens, "window", window=24)
    np.testing.assert_allclose(logits, rotate_once_logits(model, tokens, 0, 24), atol=1e-9)


def test_unknown_policy_rejected(model, tokens):
    with pytest.raises(ValueError, match="unknown cache policy"):
        streaming_logits(model, tokens[:4], "lru", window=4)
