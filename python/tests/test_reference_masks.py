# ===- tests/test_reference_masks.py - Tests of the reference masks ---=== #
"""Tests of `rill.reference.masks`: each mask kind against its defining formula.

The expected sets are written out by hand or by a plain double loop over the
formula, so a mistake in the vectorised `matrix` code cannot hide behind itself.
"""

import numpy as np
import pytest

from rill.reference import masks
from rill.reference.masks import (
    BigBird,
    Causal,
    Chunked,
    Dilated,
    Full,
    Intersect,
    PerHead,
    Sinks,
    Union,
    Window,
    bigbird_random_blocks,
    splitmix64,
    streaming_llm,
    window,
)


def visible_keys(mask, q, keys, head=0, layer=0):
    row = mask.matrix([q], keys, head=head, layer=layer)[0]
    return [int(k) for k, seen in zip(keys, row) if seen]


def formula_matrix(predicate, queries, keys):
    return np.array([[predicate(q, k) for k in keys] for q in queries], dtype=bool)


def test_window_three_over_six_tokens():
    positions = np.arange(6)
    counts = window(3).matrix(positions, positions).sum(axis=1)
    assert counts.tolist() == [1, 2, 3, 3, 3, 3]


def test_window_equals_two_sided_form():
    assert window(5) == Window(left=4, right=0)


def test_window_one_sees_only_itself():
    assert visible_keys(window(1), 7, range(10)) == [7]


def test_causal_queries_three_and_four():
    keys = range(5)
    assert visible_keys(Causal(), 3, keys) == [0, 1, 2, 3]
    assert visible_keys(Causal(), 4, keys) == [0, 1, 2, 3, 4]


def test_streaming_llm_query_25():
    mask = streaming_llm(4, 6)
    expected = [0, 1, 2, 3, 20, 21, 22, 23, 24, 25]
    assert visible_keys(mask, 25, range(40)) == expected


def test_streaming_llm_is_causal():
    mask = streaming_llm(4, 6)
    assert not mask.visible(2, 3)
    assert visible_keys(mask, 2, range(10)) == [0, 1, 2]


def test_sinks_alone_is_causal():
    assert visible_keys(Sinks(4), 2, range(10)) == [0, 1, 2]
    assert visible_keys(Sinks(4), 100, range(10)) == [0, 1, 2, 3]


def test_sinks_zero_sees_nothing():
    assert not Sinks(0).matrix(np.arange(5), np.arange(5)).any()


def test_window_as_wide_as_sequence_equals_causal():
    positions = np.arange(17)
    np.testing.assert_array_equal(
        window(17).matrix(positions, positions), Causal().matrix(positions, positions)
    )


def test_full_sees_everything():
    assert Full().matrix(np.arange(3), np.arange(5)).all()


def test_two_sided_window_formula():
    queries, keys = np.arange(12), np.arange(12)
    expected = formula_matrix(lambda q, k: q - 3 <= k <= q + 2, queries, keys)
    np.testing.assert_array_equal(Window(left=3, right=2).matrix(queries, keys), expected)


def test_dilated_formula():
    queries, keys = np.arange(40), np.arange(40)
    expected = formula_matrix(
        lambda q, k: 0 <= q - k < 8 * 3 and (q - k) % 3 == 0, queries, keys
    )
    np.testing.assert_array_equal(Dilated(window=8, dilation=3).matrix(queries, keys), expected)


def test_dilated_keys_of_one_query():
    assert visible_keys(Dilated(window=3, dilation=2), 10, range(20)) == [6, 8, 10]


def test_dilation_one_equals_window():
    positions = np.arange(20)
    np.testing.assert_array_equal(
        Dilated(window=5, dilation=1).matrix(positions, positions),
        window(5).matrix(positions, positions),
    )


def test_chunked_formula():
    queries, keys = np.arange(20), np.arange(20)
    expected = formula_matrix(lambda q, k: q // 4 == k // 4 and k <= q, queries, keys)
    np.testing.assert_array_equal(Chunked(4).matrix(queries, keys), expected)


def test_chunked_keys_of_one_query():
    assert visible_keys(Chunked(4), 6, range(12)) == [4, 5, 6]


def test_union_and_intersect_operators():
    a, b = Sinks(2), window(3)
    assert (a | b) == Union((a, b))
    assert (a & b) == Intersect((a, b))

    queries, keys = np.arange(10), np.arange(10)
    np.testing.assert_array_equal(
        (a | b).matrix(queries, keys), a.matrix(queries, keys) | b.matrix(queries, keys)
    )
    np.testing.assert_array_equal(
        (a & b).matrix(queries, keys), a.matrix(queries, keys) & b.matrix(queries, keys)
    )


def test_lower_case_constructors():
    assert masks.full() == Full()
    assert masks.causal() == Causal()
    assert masks.sinks(4) == Sinks(4)
    assert masks.dilated(8, 2) == Dilated(window=8, dilation=2)
    assert masks.chunked(64) == Chunked(64)
    assert masks.bigbird(64, 2, 3, 3, seed=1, causal=True) == BigBird(
        block=64, global_blocks=2, window=3, random=3, seed=1, causal=True)
    assert masks.union([Sinks(1), window(2)]) == Union((Sinks(1), window(2)))
    assert masks.intersect([Causal(), Full()]) == Intersect((Causal(), Full()))
    assert masks.per_head([Causal(), Full()]) == PerHead((Causal(), Full()))


def test_per_head_selects_head_mask():
    mask = PerHead((Causal(), window(2)))
    assert visible_keys(mask, 5, range(8), head=0) == [0, 1, 2, 3, 4, 5]
    assert visible_keys(mask, 5, range(8), head=1) == [4, 5]


def test_per_head_rejects_missing_head():
    with pytest.raises(ValueError, match="2 heads"):
        PerHead((Causal(), Full())).matrix([0], [0], head=2)


def test_visible_matches_matrix():
    mask = Union((Sinks(3), Dilated(window=4, dilation=2)))
    queries, keys = np.arange(15), np.arange(15)
    matrix = mask.matrix(queries, keys)
    for q in queries:
        for k in keys:
            assert mask.visible(int(q), int(k)) == matrix[q, k]


def test_matrix_accepts_noncontiguous_keys():
    keys = np.array([0, 1, 7, 8, 9])
    assert streaming_llm(2, 3).matrix([9], keys).tolist() == [[True, True, True, True, True]]


def test_splitmix64_reference_values():
    # The first two outputs of the splitmix64 generator seeded with 0.
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4


def test_bigbird_random_blocks_deterministic():
    first = BigBird(block=4, global_blocks=1, window=3, random=3, seed=7)
    second = BigBird(block=4, global_blocks=1, window=3, random=3, seed=7)
    other_seed = BigBird(block=4, global_blocks=1, window=3, random=3, seed=8)
    positions = np.arange(4 * 32)

    for head in range(3):
        np.testing.assert_array_equal(
            first.matrix(positions, positions, head=head, layer=2),
            second.matrix(positions, positions, head=head, layer=2),
        )

    blocks_same = [first.random_blocks(qb, head=1, layer=2) for qb in range(32)]
    blocks_again = [second.random_blocks(qb, head=1, layer=2) for qb in range(32)]
    blocks_other = [other_seed.random_blocks(qb, head=1, layer=2) for qb in range(32)]
    assert blocks_same == blocks_again
    assert blocks_same != blocks_other
    assert not np.array_equal(
        first.matrix(positions, positions, head=1, layer=2),
        other_seed.matrix(positions, positions, head=1, layer=2),
    )


def test_bigbird_random_blocks_vary_by_head_and_layer():
    blocks = {
        (layer, head): bigbird_random_blocks(0, layer, head, 40, 3)
        for layer in range(2) for head in range(2)
    }
    assert len(set(blocks.values())) == 4


def test_bigbird_random_blocks_distinct_and_in_range():
    for query_block in range(50):
        blocks = bigbird_random_blocks(3, 1, 2, query_block, 3)
        assert len(blocks) == min(3, query_block + 1)
        assert len(set(blocks)) == len(blocks)
        assert all(0 <= block <= query_block for block in blocks)


def test_bigbird_random_blocks_follow_documented_hash():
    # Re-derive the draw from the docstring's pseudo-code.
    seed, layer, head, query_block, count = 5, 1, 3, 20, 3
    state = splitmix64(seed)
    for part in (layer, head, query_block):
        state = splitmix64(state ^ part)
    chosen, draw = [], 0
    while len(chosen) < count:
        block = splitmix64(state ^ draw) % (query_block + 1)
        draw += 1
        if block not in chosen:
            chosen.append(block)
    assert bigbird_random_blocks(seed, layer, head, query_block, count) == tuple(chosen)


def test_bigbird_block_formula():
    mask = BigBird(block=2, global_blocks=1, window=3, random=2, seed=11)
    positions = np.arange(2 * 12)

    def predicate(q, k, head):
        qb, kb = q // 2, k // 2
        return (qb < 1 or kb < 1 or abs(qb - kb) <= 1
                or kb in mask.random_blocks(qb, head=head, layer=0))

    for head in range(2):
        expected = formula_matrix(lambda q, k: predicate(q, k, head), positions, positions)
        np.testing.assert_array_equal(mask.matrix(positions, positions, head=head), expected)


def test_bigbird_global_blocks_see_everything():
    mask = BigBird(block=4, global_blocks=2, window=1, random=0)
    positions = np.arange(4 * 10)
    matrix = mask.matrix(positions, positions)
    assert matrix[:8].all()
    assert matrix[:, :8].all()
    assert visible_keys(mask, 20, positions) == list(range(8)) + [20, 21, 22, 23]


def test_bigbird_causal_variant():
    bidirectional = BigBird(block=2, global_blocks=1, window=3, random=1, seed=3)
    causal = BigBird(block=2, global_blocks=1, window=3, random=1, seed=3, causal=True)
    positions = np.arange(20)
    np.testing.assert_array_equal(
        causal.matrix(positions, positions),
        bidirectional.matrix(positions, positions) & Causal().matrix(positions, positions),
    )


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: window(0), "'size' must be an integer >= 1 \\(got 0\\)"),
        (lambda: Window(left=-1), "'left' must be an integer >= 0 \\(got -1\\)"),
        (lambda: Sinks(-2), "'count' must be an integer >= 0 \\(got -2\\)"),
        (lambda: Dilated(window=4, dilation=0), "'dilation' must be an integer >= 1"),
        (lambda: Chunked(1.5), "'size' must be an integer >= 1 \\(got 1.5\\)"),
        (lambda: BigBird(block=4, global_blocks=1, window=2, random=1), "'window' must be odd"),
        (lambda: BigBird(block=0, global_blocks=1, window=3, random=1), "'block'"),
        (lambda: Union(()), "at least one mask"),
        (lambda: Intersect((Causal(), 3)), "must be masks"),
    ],
)
def test_mask_parameters_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_matrix_rejects_fractional_positions():
    with pytest.raises(ValueError, match="integer positions"):
        Causal().matrix([0.5], [0])
