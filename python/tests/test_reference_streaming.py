# ===- tests/test_reference_streaming.py - Tests of cache policies ----=== #
"""Tests of `rill.reference.streaming`: cache plans, the key/value cache and
the rotate-once identity.

The plan tests pin the eviction edge cases of the StreamingLLM reference and
tie each policy to its mask. The identity tests show, at stream positions near
10**6 and 10**7, that keys rotated once at their stream position give the
reference's re-rotated scores to 1e-9 relative to the largest score.
"""

import numpy as np
import pytest

from rill.reference.masks import Causal, streaming_llm, window
from rill.reference.rope import rotary
from rill.reference.streaming import (
    StreamingKVCache,
    capacity,
    plan,
    sinks_scores_reference,
    sinks_scores_rotate_once,
    step_plan,
)


def test_sinks_one_plus_three_at_step_nine():
    step = plan("sinks", 11, 1, 3)[9]
    assert step.tokens == (0, 7, 8, 9)
    assert step.positions == (0, 1, 2, 3)
    assert step.query_position == 3


def test_sinks_one_plus_three_at_step_ten():
    step = plan("sinks", 11, 1, 3)[10]
    assert step.tokens == (0, 8, 9, 10)
    assert step.positions == (0, 1, 2, 3)
    assert step.query_position == 3


def test_sinks_before_cache_fills():
    steps = plan("sinks", 4, 1, 3)
    assert [step.tokens for step in steps] == [(0,), (0, 1), (0, 1, 2), (0, 1, 2, 3)]
    assert [step.query_position for step in steps] == [0, 1, 2, 3]


@pytest.mark.parametrize("sinks, recent", [(1, 3), (4, 6), (0, 5), (3, 1)])
def test_positions_contiguous_after_fill(sinks, recent):
    full = sinks + recent
    for step in plan("sinks", 40, sinks, recent)[full - 1:]:
        assert len(step.tokens) == full
        assert step.positions == tuple(range(full))
        assert step.query_position == full - 1
        assert step.tokens[-1] == step.step


def test_sinks_plan_matches_streaming_mask():
    mask = streaming_llm(4, 6)
    for step in plan("sinks", 60, 4, 6):
        visible = np.flatnonzero(mask.matrix([step.step], np.arange(step.step + 1))[0])
        assert step.tokens == tuple(visible.tolist())


def test_window_plan_matches_window_mask():
    mask = window(5)
    for step in plan("window", 30, 0, 5):
        visible = np.flatnonzero(mask.matrix([step.step], np.arange(step.step + 1))[0])
        assert step.tokens == tuple(visible.tolist())
        assert step.positions == tuple(range(len(step.tokens)))
        assert not step.recompute


def test_window_policy_ignores_sinks():
    assert plan("window", 12, 4, 5) == plan("window", 12, 0, 5)
    assert capacity("window", 4, 5) == 5


def test_recompute_plan():
    steps = plan("recompute", 12, 0, 5)
    assert all(step.recompute for step in steps)
    assert [step.tokens for step in steps] == [step.tokens for step in plan("window", 12, 0, 5)]
    assert steps[11].positions == (0, 1, 2, 3, 4)


def test_dense_plan_uses_stream_positions():
    causal = Causal()
    for step in plan("dense", 20, 4, None):
        visible = np.flatnonzero(causal.matrix([step.step], np.arange(step.step + 1))[0])
        assert step.tokens == tuple(visible.tolist())
        assert step.positions == step.tokens
        assert step.query_position == step.step


def test_capacities():
    assert capacity("sinks", 4, 1020) == 1024
    assert capacity("window", 4, 1024) == 1024
    assert capacity("recompute", 0, 1024) == 1024
    assert capacity("dense", 4, 1024) is None


def test_step_plan_far_in_stream():
    step = step_plan("sinks", 10**7 + 5, 4, 4)
    assert step.tokens == (0, 1, 2, 3, 10**7 + 2, 10**7 + 3, 10**7 + 4, 10**7 + 5)
    assert step.positions == tuple(range(8))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: plan("ring", 4, 1, 3), "unknown cache policy 'ring'"),
        (lambda: plan("sinks", 4, -1, 3), "sinks must be an integer >= 0 \\(got -1\\)"),
        (lambda: plan("window", 4, 0, 0), "window must be an integer >= 1 \\(got 0\\)"),
        (lambda: plan("sinks", -1, 1, 3), "n_tokens must be an integer >= 0"),
        (lambda: step_plan("sinks", -2, 1, 3), "step must be an integer >= 0"),
    ],
)
def test_plan_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def token_kv(t, kv_heads=2, head_dim=3):
    key = np.full((kv_heads, head_dim), float(t))
    return key, -key


def test_cache_returns_planned_tokens_in_order():
    cache = StreamingKVCache("sinks", 1, 3, 2)
    for t in range(11):
        step = cache.begin_step(t)
        for layer in range(2):
            key, value = token_kv(t + 100 * layer)
            cache.append(layer, key, value)

        for layer in range(2):
            keys, values, positions, query_position = cache.keys_values(layer)
            expected = np.array(step.tokens, dtype=np.float64) + 100 * layer
            assert keys.shape == (2, len(step.tokens), 3)
            np.testing.assert_array_equal(keys[0, :, 0], expected)
            np.testing.assert_array_equal(values[1, :, 2], -expected)
            assert positions.dtype == np.int64
            assert positions.tolist() == list(step.positions)
            assert query_position == step.query_position

    assert cache.current.tokens == (0, 8, 9, 10)


def test_cache_evicts_entries():
    cache = StreamingKVCache("window", 0, 2, 1)
    for t in range(6):
        cache.begin_step(t)
        cache.append(0, *token_kv(t))
    assert cache.stored_tokens(0) == (4, 5)


def test_dense_cache_grows():
    cache = StreamingKVCache("dense", 0, None, 1)
    for t in range(5):
        cache.begin_step(t)
        cache.append(0, *token_kv(t))
    keys, _, positions, query_position = cache.keys_values(0)
    assert keys.shape[1] == 5
    assert positions.tolist() == [0, 1, 2, 3, 4]
    assert query_position == 4


def test_cache_rejects_misuse():
    cache = StreamingKVCache("sinks", 1, 3, 2)
    with pytest.raises(ValueError, match="before begin_step"):
        cache.append(0, *token_kv(0))
    with pytest.raises(ValueError, match="expects token 0 next \\(got 1\\)"):
        cache.begin_step(1)

    cache.begin_step(0)
    cache.append(0, *token_kv(0))
    with pytest.raises(ValueError, match="already has token 0"):
        cache.append(0, *token_kv(0))
    with pytest.raises(ValueError, match="layer 1 has no key/value for tokens \\[0\\]"):
        cache.keys_values(1)
    with pytest.raises(ValueError, match="layer must be in \\[0, 2\\) \\(got 2\\)"):
        cache.append(2, *token_kv(0))


def test_cache_rejects_recompute_steps():
    cache = StreamingKVCache("recompute", 0, 4, 1)
    with pytest.raises(ValueError, match="cannot run policy 'recompute'"):
        cache.begin_step(0)


def scores_both_ways(step_index, sinks, recent, interleaved=False, rotary_dim=None, seed=0):
    rng = np.random.default_rng(seed)
    heads, head_dim = 3, 64
    step = step_plan("sinks", step_index, sinks, recent)
    keys = rng.normal(size=(heads, len(step.tokens), head_dim))
    query = rng.normal(size=(heads, head_dim))

    reference = sinks_scores_reference(query, keys, rotary_dim=rotary_dim, interleaved=interleaved)
    keys_rotated = rotary(keys, np.asarray(step.tokens), rotary_dim=rotary_dim,
                          interleaved=interleaved)
    rotate_once = sinks_scores_rotate_once(query, keys_rotated, step.tokens, sinks,
                                           rotary_dim=rotary_dim, interleaved=interleaved)
    return reference, rotate_once


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("step_index", [10**6, 10**6 + 37, 10**7, 10**7 + 4093])
def test_rotate_once_equals_reference(step_index, interleaved):
    reference, rotate_once = scores_both_ways(step_index, 4, 60, interleaved=interleaved)
    error = np.abs(rotate_once - reference).max()
    assert error <= 1e-9 * np.abs(reference).max()


def test_rotate_once_partial_rotary_dim():
    reference, rotate_once = scores_both_ways(10**7 + 1, 4, 28, rotary_dim=32)
    assert np.abs(rotate_once - reference).max() <= 1e-9 * np.abs(reference).max()


@pytest.mark.parametrize("step_index", [0, 5, 63])
def test_rotate_once_before_cache_fills(step_index):
    reference, rotate_once = scores_both_ways(step_index, 4, 60)
    np.testing.assert_allclose(rotate_once, reference, rtol=1e-12, atol=1e-12)


def test_single_query_position_breaks_sink_scores():
    # Rotating the query only at its stream position gives the window keys
    # the right distance but the sink keys the wrong one, which is why the
    # query rotates per segment.
    rng = np.random.default_rng(3)
    step = step_plan("sinks", 10**6, 4, 60)
    keys = rng.normal(size=(1, len(step.tokens), 64))
    query = rng.normal(size=(1, 64))
    reference = sinks_scores_reference(query, keys)
    keys_rotated = rotary(keys, np.asarray(step.tokens))
    naive = np.einsum("hd,hnd->hn", rotary(query, step.step), keys_rotated)

    np.testing.assert_allclose(naive[:, 4:], reference[:, 4:], rtol=1e-6, atol=1e-6)
    assert np.abs(naive[:, :4] - reference[:, :4]).max() > 1e-3


def test_rotate_once_rejects_non_streaming_layout():
    keys = np.zeros((1, 3, 8))
    with pytest.raises(ValueError, match="sink entries must be tokens 0..1"):
        sinks_scores_rotate_once(np.zeros((1, 8)), keys, [0, 2, 3], 2)
    with pytest.raises(ValueError, match="contiguous"):
        sinks_scores_rotate_once(np.zeros((1, 8)), keys, [0, 2, 4], 1)
