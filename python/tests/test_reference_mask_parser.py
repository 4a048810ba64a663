# ===- tests/test_reference_mask_parser.py - Tests of parse_mask ------=== #
"""Tests of `rill.reference.masks.parse_mask`, the command-line mask syntax.

Covers every mask kind, operator precedence, parentheses, per-head lists and
the error messages for invalid text.
"""

import numpy as np
import pytest

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
    parse_mask,
    streaming_llm,
    window,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("causal", Causal()),
        ("full", Full()),
        ("window(128)", window(128)),
        ("window(size=128)", window(128)),
        ("window(left=3,right=2)", Window(left=3, right=2)),
        ("window(left=3)", Window(left=3, right=0)),
        ("sinks(4)", Sinks(4)),
        ("sinks(count=4)", Sinks(4)),
        ("dilated(window=8,dilation=2)", Dilated(window=8, dilation=2)),
        ("dilated(8, 2)", Dilated(window=8, dilation=2)),
        ("chunked(64)", Chunked(64)),
        ("bigbird(block=64,global=2,window=3,random=3,seed=0)",
         BigBird(block=64, global_blocks=2, window=3, random=3, seed=0)),
        ("bigbird(block=64,global=2,window=3,random=3)",
         BigBird(block=64, global_blocks=2, window=3, random=3, seed=0)),
        ("bigbird(block=16,global=1,window=5,random=2,seed=9,causal=true)",
         BigBird(block=16, global_blocks=1, window=5, random=2, seed=9, causal=True)),
        ("sinks(4)|window(1020)", streaming_llm(4, 1020)),
        (" sinks( 4 ) | window( 1020 ) ", streaming_llm(4, 1020)),
    ],
)
def test_parse_mask_kinds(text, expected):
    assert parse_mask(text) == expected


def test_and_binds_tighter_than_or():
    assert parse_mask("causal|full&sinks(2)") == Union((Causal(), Intersect((Full(), Sinks(2)))))


def test_parentheses_override_precedence():
    assert parse_mask("(causal|full)&sinks(2)") == Intersect((Union((Causal(), Full())), Sinks(2)))


def test_chained_operators_flatten():
    assert parse_mask("sinks(1)|window(2)|chunked(3)") == Union((Sinks(1), window(2), Chunked(3)))


def test_per_head_list():
    assert parse_mask("[causal, sinks(2)|window(4)]") == PerHead((Causal(), streaming_llm(2, 4)))


def test_streaming_llm_text_semantics():
    mask = parse_mask("sinks(4)|window(6)")
    row = mask.matrix([25], np.arange(40))[0]
    assert np.flatnonzero(row).tolist() == [0, 1, 2, 3, 20, 21, 22, 23, 24, 25]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty text"),
        ("windo(3)", "unknown mask 'windo'"),
        ("window(0)", "'size' must be an integer >= 1 \\(got 0\\)"),
        ("window(-3)", "'size' must be an integer >= 1 \\(got -3\\)"),
        ("window(3,left=2)", "either one size or left= and right="),
        ("window(right=2)", "missing parameter 'left'"),
        ("window(left=2,up=1)", "unknown parameter 'up' of window"),
        ("sinks(-1)", "'count' must be an integer >= 0 \\(got -1\\)"),
        ("sinks()", "missing parameter 'count' of sinks"),
        ("sinks(4,5)", "sinks takes at most 1 parameters \\(got 2\\)"),
        ("sinks(count=1,count=2)", "'count' is given twice"),
        ("dilated(window=8)", "missing parameter 'dilation' of dilated"),
        ("dilated(window=8,dilation=2,x=1)", "unknown parameter 'x' of dilated"),
        ("dilated(window=8,2)", "positional value after keyword"),
        ("bigbird(block=4)", "missing parameter 'global' of bigbird"),
        ("bigbird(block=4,global=1,window=2,random=1)", "'window' must be odd \\(got 2\\)"),
        ("chunked(x)", "expected an integer or true/false \\(got 'x' at column 9\\)"),
        ("causal &", "expected a mask name \\(got end of input\\)"),
        ("causal causal", "expected '\\|', '&' or end of input \\(got 'causal' at column 8\\)"),
        ("window(3", "expected ',' or '\\)' \\(got end of input\\)"),
        ("(causal", "expected '\\)' \\(got end of input\\)"),
        ("causal $", "unexpected character '\\$' at column 8"),
        ("[causal, full", "expected '\\]'"),
    ],
)
def test_parse_mask_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_mask(text)


def test_parse_error_quotes_text():
    with pytest.raises(ValueError, match="invalid mask 'window\\(0\\)'"):
        parse_mask("window(0)")


def test_parse_mask_rejects_non_string():
    with pytest.raises(ValueError, match="must be a string"):
        parse_mask(3)
