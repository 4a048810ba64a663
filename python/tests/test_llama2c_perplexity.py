# ===- tests/test_llama2c_perplexity.py - Streaming perplexity CLI -----=== #
"""Tests of `rill.perplexity` on a few hundred tokens of the TinyStories text.

Each policy's perplexity is checked against a direct computation that scores
tokens 1..N-1 from dense or from-scratch forward passes, and the command line is
run end to end with JSON output.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from rill import perplexity
from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text

DATA = Path(__file__).resolve().parents[2] / "data"
N_TOKENS = 300


@pytest.fixture(scope="module")
def model():
    return Llama2cModel(load_checkpoint(DATA / "checkpoints" / "stories260K.bin"))


@pytest.fixture(scope="module")
def tokens():
    tokenizer = load_tokenizer(DATA / "checkpoints" / "tok512.bin")
    text = read_text(DATA / "text" / "tinystories_valid_head.txt")[:3000]
    return np.array(tokenizer.encode(text)[:N_TOKENS], dtype=np.int64)


def direct_perplexity(rows: np.ndarray, targets: np.ndarray) -> float:
    probabilities = np.exp(rows - rows.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return float(np.exp(-np.mean(np.log(probabilities[np.arange(len(targets)), targets]))))


def test_token_nll_matches_log_softmax():
    logits = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])
    np.testing.assert_allclose(perplexity.token_nll(logits, np.array([1, 0])), [np.log(4 / 3), np.log(2)])


def test_dense_perplexity_matches_forward(model, tokens):
    result = perplexity.stream_perplexity(model, tokens, "dense")
    expected = direct_perplexity(model.forward(tokens)[:-1], tokens[1:])
    assert result.scored_tokens == N_TOKENS - 1
    assert result.perplexity == pytest.approx(expected, rel=1e-12)
    assert result.capacity is None


def test_recompute_perplexity_matches_direct(model, tokens):
    window, n = 24, 100
    rows = [model.forward(tokens[max(0, t - window + 1) : t + 1])[-1] for t in range(n - 1)]
    result = perplexity.stream_perplexity(model, tokens[:n], "recompute", window=window)
    assert result.perplexity == pytest.approx(direct_perplexity(np.stack(rows), tokens[1:n]), rel=1e-12)
    assert result.capacity == window


def test_sinks_perplexity_equals_dense_when_cache_holds_all(model, tokens):
    dense = perplexity.stream_perplexity(model, tokens, "dense")
    sinks = perplexity.stream_perplexity(model, tokens, "sinks", sinks=4, window=N_TOKENS)
    assert sinks.perplexity == pytest.approx(dense.perplexity, rel=1e-12)


def test_bounded_policies_differ_from_dense(model, tokens):
    prefix = tokens[:100]
    dense = perplexity.stream_perplexity(model, prefix, "dense").perplexity
    for policy, sinks, window in perplexity.policy_settings("all", 4, 28)[1:]:
        result = perplexity.stream_perplexity(model, prefix, policy, sinks, window)
        assert result.capacity == 32, policy
        assert abs(result.perplexity - dense) > 1e-3, policy


def test_policy_settings_all_uses_equal_capacity():
    assert perplexity.policy_settings("all", 4, 252) == [
        ("dense", 0, None), ("window", 0, 256), ("recompute", 0, 256), ("sinks", 4, 252)
    ]
    assert perplexity.policy_settings("window", 4, 252) == [("window", 0, 252)]


def test_cli_writes_json(tmp_path, capsys):
    output = tmp_path / "result.json"
    arguments = ["--tokens", "120", "--policy", "sinks", "--sinks", "4", "--window", "28", "--json", str(output)]
    assert perplexity.main(arguments) == 0

    table = capsys.readouterr().out
    assert "targets are tokens 1..119" in table
    assert "sinks" in table
    results = json.loads(output.read_text())
    assert len(results) == 1
    assert results[0]["policy"] == "sinks"
    assert results[0]["capacity"] == 32
    assert results[0]["scored_tokens"] == 119
    assert results[0]["perplexity"] > 1.0


def test_cli_rejects_short_stream():
    with pytest.raises(SystemExit):
        perplexity.main(["--tokens", "1"])
