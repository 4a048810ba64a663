# ===- tests/test_reference_rope.py - Tests of reference RoPE ---------=== #
"""Tests of `rill.reference.rope` against a complex-number formula.

Each channel pair is treated as a complex number `a + ib` multiplied by
`exp(i * position * theta ** (-2j / rd))`, computed per element with `cmath`, for
both the half-split and the interleaved layout. Further tests check partial
rotary dims, the relative-position property at stream positions near 10**7 and
argument validation.
"""

import cmath

import numpy as np
import pytest

from rill.reference.rope import inverse_frequencies, rotary, rotation_angles


def complex_rotary(x, positions, theta, rotary_dim, interleaved):
    out = np.array(x, dtype=np.float64)
    half = rotary_dim // 2
    for t, position in enumerate(positions):
        for j in range(half):
            if interleaved:
                a_index, b_index = 2 * j, 2 * j + 1
            else:
                a_index, b_index = j, j + half
            frequency = theta ** (-(2 * j) / rotary_dim)
            z = complex(x[t, a_index], x[t, b_index]) * cmath.exp(1j * position * frequency)
            out[t, a_index] = z.real
            out[t, b_index] = z.imag
    return out


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("rotary_dim", [16, 8])
def test_rotary_matches_complex_formula(interleaved, rotary_dim):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 16))
    positions = [0, 1, 5, 100, 4097, 123456]
    expected = complex_rotary(x, positions, 10000.0, rotary_dim, interleaved)
    result = rotary(x, positions, theta=10000.0, rotary_dim=rotary_dim, interleaved=interleaved)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_partial_rotary_dim_keeps_tail():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 4, 12))
    result = rotary(x, np.arange(4), rotary_dim=4)
    np.testing.assert_array_equal(result[..., 4:], x[..., 4:])
    assert not np.allclose(result[..., 1:, :4], x[..., 1:, :4])


def test_position_zero_is_identity():
    x = np.random.default_rng(9).normal(size=(2, 8))
    np.testing.assert_array_equal(rotary(x, [0, 0]), x)


def test_layouts_differ_by_channel_permutation():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(5, 8))
    positions = np.arange(5) * 37
    # Interleaved channels (0,1,2,3,...) hold the pairs that half-split keeps at (0,4,1,5,...).
    half_split_order = np.array([0, 4, 1, 5, 2, 6, 3, 7])
    interleaved = rotary(x[:, half_split_order], positions, interleaved=True)
    half_split = rotary(x, positions)
    np.testing.assert_allclose(interleaved, half_split[:, half_split_order], rtol=1e-14, atol=1e-14)


def test_theta_changes_angles():
    np.testing.assert_allclose(inverse_frequencies(4, 500000.0), [1.0, 500000.0 ** -0.5])


def test_angles_use_exact_integer_positions():
    position = 10**7 + 1
    angles = rotation_angles([position], 8)
    np.testing.assert_array_equal(angles[0], np.float64(position) * inverse_frequencies(8))
    assert angles[0, 0] == 10000001.0


def test_broadcast_positions_per_token():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 2, 8))
    positions = np.array([4, 9, 2])
    result = rotary(x, positions[:, None])
    for t in range(3):
        np.testing.assert_allclose(result[t], rotary(x[t], [positions[t]] * 2), rtol=1e-15)


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("base", [10**6, 10**7])
def test_scores_depend_on_distance_at_large_positions(base, interleaved):
    # The score of a query at `base + d` and a key at `base` must equal that of
    # a query at `d` and a key at 0, which fails with float32 angles.
    rng = np.random.default_rng(base % 1000)
    q = rng.normal(size=64)
    k = rng.normal(size=64)
    for distance in (0, 1, 17, 1000):
        far = rotary(q, base + distance, interleaved=interleaved) @ rotary(
            k, base, interleaved=interleaved)
        near = rotary(q, distance, interleaved=interleaved) @ rotary(k, 0, interleaved=interleaved)
        scale = np.linalg.norm(q) * np.linalg.norm(k)
        assert abs(far - near) <= 1e-9 * scale


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: rotary(x, [1.5] * 4), "positions must be integers"),
        (lambda x: rotary(x, [2**53 + 2] * 4), "at most 2\\*\\*53"),
        (lambda x: rotary(x, np.arange(4), rotary_dim=6 + 1), "positive even integer"),
        (lambda x: rotary(x, np.arange(4), rotary_dim=16), "at most the head dim 8"),
        (lambda x: rotary(x, np.arange(3)), "do not broadcast"),
        (lambda x: rotary(x, np.arange(4), theta=0.0), "theta must be positive"),
    ],
)
def test_rotary_rejects_bad_arguments(call, message):
    x = np.zeros((4, 8))
    with pytest.raises(ValueError, match=message):
        call(x)
