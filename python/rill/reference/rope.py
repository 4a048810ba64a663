# ===- rill/reference/rope.py - Rotary position embedding in float64 --=== #
"""Rotary position embedding (RoPE) of the numpy reference, in float64.

Two layouts are supported. The half-split layout (GPT-NeoX, Hugging Face Llama)
rotates the pairs `(i, i + rd/2)`. The interleaved layout (Meta's Llama and
llama2.c) rotates the pairs `(2i, 2i + 1)`. Pair `i` turns by the angle
`position * theta ** (-2i / rd)`. Positions are exact integers and the angles
and their cosines are computed in float64. At stream position 10**7 the angle
is then within about 1e-9 radians (half a float64 ulp), where float32 angles
could be off by half a radian.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["inverse_frequencies", "rotary", "rotation_angles"]

# Integers up to 2**53 convert to float64 exactly.
_MAX_EXACT_POSITION = 2**53


def inverse_frequencies(rotary_dim: int, theta: float = 10000.0) -> np.ndarray:
    """Return `theta ** (-2i / rotary_dim)` for `i = 0 .. rotary_dim/2 - 1` in float64."""
    if isinstance(rotary_dim, bool) or not isinstance(rotary_dim, (int, np.integer)) \
            or rotary_dim <= 0 or rotary_dim % 2 != 0:
        raise ValueError(f"rotary_dim must be a positive even integer (got {rotary_dim!r})")
    if not theta > 0:
        raise ValueError(f"theta must be positive (got {theta!r})")
    # math.pow calls the C library's pow for each value, because numpy's
    # vectorised power may use a less accurate SIMD routine on some CPUs and the
    # angles at stream positions near 10**7 magnify any last-bit difference.
    return np.array(
        [math.pow(float(theta), -(2 * i) / rotary_dim) for i in range(rotary_dim // 2)],
        dtype=np.float64,
    )


def _as_integer_positions(positions) -> np.ndarray:
    array = np.asarray(positions)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"positions must be integers (got {array!r})")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"positions must be integers (got dtype {array.dtype})")
    array = array.astype(np.int64)
    if array.size and np.abs(array).max() > _MAX_EXACT_POSITION:
        raise ValueError(
            f"positions must be at most 2**53 in magnitude to stay exact in float64 "
            f"(got {np.abs(array).max()})"
        )
    return array


def rotation_angles(positions, rotary_dim: int, theta: float = 10000.0) -> np.ndarray:
    """Return the angles `position * theta ** (-2i / rotary_dim)`, shape [..., rotary_dim/2]."""
    positions = _as_integer_positions(positions).astype(np.float64)
    return positions[..., None] * inverse_frequencies(rotary_dim, theta)


def rotary(x, positions, theta: float = 10000.0, rotary_dim: int | None = None,
           interleaved: bool = False) -> np.ndarray:
    """Rotate the last axis of `x` by RoPE at the given positions and return float64.

    `x` is [..., T, D] and `positions` must broadcast to `x.shape[:-1]` (for
    example [T] for x [H, T, D]). Only the first `rotary_dim` channels rotate
    (default: all D), and the remaining `D - rotary_dim` channels pass through
    unchanged. Each pair `(a, b)` becomes
    `(a cos(angle) - b sin(angle), b cos(angle) + a sin(angle))`.
    """
    x = np.asarray(x, dtype=np.float64)
    head_dim = x.shape[-1]
    if rotary_dim is None:
        rotary_dim = head_dim
    if isinstance(rotary_dim, (int, np.integer)) and rotary_dim > head_dim:
        raise ValueError(f"rotary_dim must be at most the head dim {head_dim} (got {rotary_dim})")

    angles = rotation_angles(positions, rotary_dim, theta)
    try:
        np.broadcast_shapes(angles.shape[:-1], x.shape[:-1])
    except ValueError:
        raise ValueError(
            f"positions of shape {angles.shape[:-1]} do not broadcast to x's leading "
            f"shape {x.shape[:-1]}"
        ) from None
    cos = np.cos(angles)
    sin = np.sin(angles)

    if interleaved:
        first = x[..., 0:rotary_dim:2]
        second = x[..., 1:rotary_dim:2]
    else:
        half = rotary_dim // 2
        first = x[..., :half]
        second = x[..., half:rotary_dim]

    rotated_first = first * cos - second * sin
    rotated_second = second * cos + first * sin

    result = np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, angles.shape[:-1] + (head_dim,))))
    if interleaved:
        result[..., 0:rotary_dim:2] = rotated_first
        result[..., 1:rotary_dim:2] = rotated_second
    else:
        result[..., :half] = rotated_first
        result[..., half:rotary_dim] = rotated_second
    return result
