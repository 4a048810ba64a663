# ===- tests/test_reference_attention.py - Tests of reference attention === #
"""Tests of `rill.reference.attention` against a per-element loop.

The loop below recomputes attention one query and one key at a time with the
`math` module, so the vectorised reference is checked against an independent
formula for grouped-query heads, bias, soft-capping, sink logits and empty rows.
It also checks that mask-exact prefill of a chunk equals token-by-token decoding,
both against the full key sequence and against the StreamingLLM cache.
"""

import math

import numpy as np
import pytest

from rill.reference.attention import attention, attention_probabilities
from rill.reference.masks import Causal, PerHead, Sinks, parse_mask, streaming_llm, window
from rill.reference.streaming import StreamingKVCache


def loop_attention(q, k, v, q_positions, k_positions, mask, bias=None, sink_logits=None,
                   scale=None, softcap=None):
    batch, q_heads, q_len, head_dim = q.shape
    kv_heads, k_len, value_dim = k.shape[1], k.shape[2], v.shape[3]
    group = q_heads // kv_heads
    if scale is None:
        scale = 1.0 / math.sqrt(head_dim)
    out = np.zeros((batch, q_heads, q_len, value_dim))

    for b in range(batch):
        for h in range(q_heads):
            kv_head = h // group
            for i in range(q_len):
                scores, keys = [], []
                for j in range(k_len):
                    if not mask.visible(int(q_positions[i]), int(k_positions[j]), head=h):
                        continue
                    score = sum(float(q[b, h, i, d]) * float(k[b, kv_head, j, d])
                                for d in range(head_dim)) * scale
                    if softcap is not None:
                        score = softcap * math.tanh(score / softcap)
                    if bias is not None:
                        score += float(bias[b % bias.shape[0], h % bias.shape[1], i, j])
                    if score == -math.inf:
                        continue
                    scores.append(score)
                    keys.append(j)
                if not scores:
                    continue

                peak = max(scores)
                if sink_logits is not None:
                    peak = max(peak, float(sink_logits[h]))
                exps = [math.exp(s - peak) for s in scores]
                denominator = sum(exps)
                if sink_logits is not None:
                    denominator += math.exp(float(sink_logits[h]) - peak)
                for weight, j in zip(exps, keys):
                    out[b, h, i] += weight / denominator * v[b, kv_head, j]
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_qkv(rng, batch=2, q_heads=4, kv_heads=2, q_len=5, k_len=7, head_dim=8, value_dim=6):
    q = rng.normal(size=(batch, q_heads, q_len, head_dim))
    k = rng.normal(size=(batch, kv_heads, k_len, head_dim))
    v = rng.normal(size=(batch, kv_heads, k_len, value_dim))
    return q, k, v


def test_causal_matches_loop(rng):
    q, k, v = random_qkv(rng, q_heads=2, kv_heads=2)
    expected = loop_attention(q, k, v, np.arange(2, 7), np.arange(7), Causal())
    np.testing.assert_allclose(attention(q, k, v, 2, 0, Causal()), expected, rtol=1e-12, atol=1e-12)


def test_grouped_query_heads_match_loop(rng):
    q, k, v = random_qkv(rng, q_heads=6, kv_heads=2)
    mask = streaming_llm(1, 3)
    expected = loop_attention(q, k, v, np.arange(2, 7), np.arange(7), mask)
    np.testing.assert_allclose(attention(q, k, v, 2, 0, mask), expected, rtol=1e-12, atol=1e-12)


def test_bias_softcap_scale_match_loop(rng):
    q, k, v = random_qkv(rng)
    bias = rng.normal(size=(1, 4, 5, 7))
    kwargs = dict(bias=bias, scale=0.3, softcap=2.0)
    expected = loop_attention(q, k, v, np.arange(2, 7), np.arange(7), Causal(), **kwargs)
    result = attention(q, k, v, 2, 0, Causal(), **kwargs)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_softcap_bounds_scores(rng):
    q, k, v = random_qkv(rng, q_heads=2, kv_heads=2)
    huge = attention(q * 1e6, k, v, 0, 0, "full", softcap=1.0)
    expected = loop_attention(q * 1e6, k, v, np.arange(5), np.arange(7), parse_mask("full"),
                              softcap=1.0)
    np.testing.assert_allclose(huge, expected, rtol=1e-12, atol=1e-12)


def test_sink_logits_match_loop(rng):
    q, k, v = random_qkv(rng)
    sink_logits = np.array([0.5, -1.0, 3.0, 20.0])
    expected = loop_attention(q, k, v, np.arange(2, 7), np.arange(7), window(3),
                              sink_logits=sink_logits)
    result = attention(q, k, v, 2, 0, window(3), sink_logits=sink_logits)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_sink_logits_shrink_row_sums(rng):
    q, k, _ = random_qkv(rng)
    probabilities = attention_probabilities(q, k, 2, 0, Causal(), sink_logits=np.zeros(4))
    row_sums = probabilities.sum(axis=-1)
    assert np.all(row_sums < 1.0)
    assert np.all(row_sums > 0.0)


def test_rows_sum_to_one_without_sinks(rng):
    q, k, _ = random_qkv(rng)
    probabilities = attention_probabilities(q, k, 2, 0, Causal())
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-14)


def test_fully_masked_rows_are_zero(rng):
    q, k, v = random_qkv(rng)
    # Queries at stream positions 0..4 and keys at 10..16: causal hides every key.
    result = attention(q, k, v, 0, 10, Causal())
    assert np.all(result == 0.0)
    assert not np.isnan(result).any()


def test_fully_masked_rows_zero_with_sink_logits(rng):
    q, k, v = random_qkv(rng)
    result = attention(q, k, v, 0, 10, Causal(), sink_logits=np.array([1.0, 2.0, 3.0, 4.0]))
    assert np.all(result == 0.0)


def test_partially_masked_rows_match_loop(rng):
    q, k, v = random_qkv(rng)
    # Keys start at position 3, so the first queries see nothing and later ones do.
    sink_logits = np.array([0.0, 1.0, -1.0, 2.0])
    expected = loop_attention(q, k, v, np.arange(5), np.arange(3, 10), Causal(),
                              sink_logits=sink_logits)
    result = attention(q, k, v, 0, 3, Causal(), sink_logits=sink_logits)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    assert np.all(result[:, :, :3] == 0.0)


def test_infinite_bias_row_is_zero(rng):
    q, k, v = random_qkv(rng)
    bias = np.zeros((2, 1, 5, 7))
    bias[:, :, 1, :] = -np.inf
    bias[:, :, 3, 2] = -np.inf
    result = attention(q, k, v, 6, 0, Causal(), bias=bias)
    expected = loop_attention(q, k, v, np.arange(6, 11), np.arange(7), Causal(), bias=bias)
    assert np.all(result[:, :, 1] == 0.0)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_per_head_mask_matches_loop(rng):
    q, k, v = random_qkv(rng)
    mask = PerHead((Causal(), window(2), Sinks(1), streaming_llm(1, 2)))
    expected = loop_attention(q, k, v, np.arange(2, 7), np.arange(7), mask)
    np.testing.assert_allclose(attention(q, k, v, 2, 0, mask), expected, rtol=1e-12, atol=1e-12)


def test_per_key_positions_match_loop(rng):
    q, k, v = random_qkv(rng, q_len=1, k_len=5)
    key_positions = np.array([0, 1, 40, 41, 42])
    mask = streaming_llm(2, 3)
    expected = loop_attention(q, k, v, [42], key_positions, mask)
    np.testing.assert_allclose(attention(q, k, v, 42, key_positions, mask), expected,
                               rtol=1e-12, atol=1e-12)


def test_mask_text_equals_mask_object(rng):
    q, k, v = random_qkv(rng)
    np.testing.assert_array_equal(
        attention(q, k, v, 2, 0, "sinks(1)|window(3)"),
        attention(q, k, v, 2, 0, streaming_llm(1, 3)),
    )


def test_prefill_chunk_equals_one_at_a_time(rng):
    mask = streaming_llm(2, 4)
    length = 14
    q, k, v = random_qkv(rng, batch=1, q_len=length, k_len=length)
    chunk = attention(q, k, v, 0, 0, mask)

    for i in range(length):
        single = attention(q[:, :, i:i + 1], k[:, :, :i + 1], v[:, :, :i + 1], i, 0, mask)
        np.testing.assert_allclose(chunk[:, :, i:i + 1], single, rtol=1e-13, atol=1e-13)


def test_prefill_chunk_mid_stream(rng):
    # A chunk of 6 queries at positions 20..25 after 20 earlier keys.
    mask = streaming_llm(2, 4)
    q, k, v = random_qkv(rng, batch=1, q_len=6, k_len=26)
    chunk = attention(q, k, v, 20, 0, mask)

    for i in range(6):
        position = 20 + i
        single = attention(q[:, :, i:i + 1], k[:, :, :position + 1], v[:, :, :position + 1],
                           position, 0, mask)
        np.testing.assert_allclose(chunk[:, :, i:i + 1], single, rtol=1e-13, atol=1e-13)


def test_prefill_chunk_equals_streaming_cache(rng):
    # Decoding through the sinks cache, where the cache contents are the mask,
    # must equal one chunk with the StreamingLLM mask over all keys.
    sinks, recent, length = 2, 4, 15
    q, k, v = random_qkv(rng, batch=1, q_len=length, k_len=length)
    chunk = attention(q, k, v, 0, 0, streaming_llm(sinks, recent))

    cache = StreamingKVCache("sinks", sinks, recent, 1)
    for t in range(length):
        step = cache.begin_step(t)
        cache.append(0, k[0, :, t], v[0, :, t])
        keys, values, _, _ = cache.keys_values(0)
        token_positions = np.asarray(step.tokens)
        decoded = attention(q[:, :, t:t + 1], keys[None], values[None], t, token_positions, "full")
        np.testing.assert_allclose(chunk[:, :, t:t + 1], decoded, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda q, k, v: attention(q, k[:, :1].repeat(3, axis=1), v[:, :1].repeat(3, axis=1),
                                   0, 0, "causal"),
         "multiple of key/value heads"),
        (lambda q, k, v: attention(q, k, v, 0, 0, "causal", bias=np.zeros((1, 1, 5, 6))),
         "bias must be"),
        (lambda q, k, v: attention(q, k, v, 0, 0, "causal", sink_logits=np.zeros(3)),
         "sink_logits must have shape \\(4,\\)"),
        (lambda q, k, v: attention(q, k, v, 0, 0, "causal", softcap=0.0), "softcap must be positive"),
        (lambda q, k, v: attention(q, k, v, 0, np.arange(3), "causal"), "k_pos0"),
        (lambda q, k, v: attention(q, k, v, 0.5, 0, "causal"), "q_pos0"),
        (lambda q, k, v: attention(q, k, v, 0, 0, 42), "mask must be"),
    ],
)
def test_attention_rejects_bad_arguments(rng, call, message):
    q, k, v = random_qkv(rng)
    with pytest.raises(ValueError, match=message):
        call(q, k, v)
